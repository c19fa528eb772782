import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { NavLink } from "react-router";
import { api, describeError, unwrap } from "../api/client";
import { formatNairobi } from "../lib/format";
import { useLiveRefreshInterval } from "../lib/live";
import { Button } from "../ui/Button";
import { ErrorMessage, Spinner } from "../ui/Status";

export function useUnreadCount(): number {
  const refreshInterval = useLiveRefreshInterval();
  return (
    useQuery({
      queryKey: ["notifications", "unread"],
      queryFn: () =>
        unwrap(api.GET("/v1/notifications", { params: { query: { unread: true, page_size: 1 } } })),
      refetchInterval: refreshInterval,
    }).data?.total ?? 0
  );
}

export function NotificationsLink() {
  const unread = useUnreadCount();
  return (
    <NavLink to="/notifications" aria-label={unread ? `Notifications, ${unread} unread` : "Notifications"}>
      Notifications{unread > 0 && <span className="count" aria-hidden="true">{unread}</span>}
    </NavLink>
  );
}

export function Notifications() {
  const queryClient = useQueryClient();
  const list = useQuery({
    queryKey: ["notifications", "all"],
    queryFn: () => unwrap(api.GET("/v1/notifications", { params: { query: { page_size: 50 } } })),
  });
  const read = useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST("/v1/notifications/{notification_id}/read", { params: { path: { notification_id: id } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["notifications"] }),
  });
  return (
    <section>
      <h1>Notifications</h1>
      {list.isPending && <Spinner label="Loading…" />}
      {list.isError && <ErrorMessage>{describeError(list.error)}</ErrorMessage>}
      {read.isError && <ErrorMessage>{describeError(read.error)}</ErrorMessage>}
      {list.data?.items.length === 0 && <p className="muted">Nothing yet.</p>}
      <ul className="list">
        {list.data?.items.map((n) => (
          <li key={n.id} className={`notification${n.read_at ? "" : " unread"}`}>
            <div>
              <strong>
                {!n.read_at && <span className="sr-only">Unread: </span>}
                {n.title}
              </strong>
              <p>{n.body}</p>
              <span className="muted">{formatNairobi(n.created_at)}</span>
            </div>
            {!n.read_at && (
              <Button variant="secondary" className="small" onClick={() => read.mutate(n.id)} aria-label={`Mark “${n.title}” as read`}>
                Mark read
              </Button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
