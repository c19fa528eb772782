import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, describeError, unwrap } from "../api/client";
import { formatKes } from "../lib/format";
import { Badge, ErrorMessage, Spinner } from "../ui/Status";

export function Therapists() {
  const list = useQuery({
    queryKey: ["therapists"],
    queryFn: () => unwrap(api.GET("/v1/therapists", { params: { query: { page_size: 50 } } })),
  });
  return (
    <section>
      <h1>Therapists</h1>
      {list.isPending && <Spinner label="Loading therapists…" />}
      {list.isError && <ErrorMessage>{describeError(list.error)}</ErrorMessage>}
      <ul className="cards">
        {list.data?.items.map((t) => (
          <li key={t.id} className="card">
            <h2>{t.full_name}</h2>
            <p className="price">{formatKes(t.session_rate)} a session</p>
            {t.specialties.length > 0 && (
              <ul className="tags" aria-label="Specialties">
                {t.specialties.map((s) => (
                  <li key={s}>{s}</li>
                ))}
              </ul>
            )}
            {t.bio && <p className="muted">{t.bio}</p>}
            {t.is_accepting_clients ? (
              <Link className="btn btn-primary" to={`/therapists/${t.id}/book`}>
                Book with {t.full_name}
              </Link>
            ) : (
              <Badge tone="muted">Not taking new clients</Badge>
            )}
          </li>
        ))}
      </ul>
      {list.data?.items.length === 0 && <p>No therapists yet.</p>}
    </section>
  );
}
