import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, describeError, unwrap, type Schemas } from "../api/client";
import { formatKes, formatNairobi } from "../lib/format";
import { PayButton } from "../payment/PayButton";
import { Badge, ErrorMessage, Spinner, type Tone } from "../ui/Status";

type OrderStatus = Schemas["OrderStatus"];
const STEPS: OrderStatus[] = ["pending", "paid", "processing", "shipped", "delivered"];
const LABELS: Record<OrderStatus, string> = {
  pending: "Waiting for payment",
  paid: "Paid",
  processing: "Being prepared",
  shipped: "On the way",
  delivered: "Delivered",
  cancelled: "Cancelled",
  refunded: "Refunded",
};
const STEP_LABELS: Record<OrderStatus, string> = { ...LABELS, pending: "Ordered" };
const TONES: Record<OrderStatus, Tone> = {
  pending: "warn",
  paid: "ok",
  processing: "info",
  shipped: "info",
  delivered: "ok",
  cancelled: "muted",
  refunded: "muted",
};

export function OrderBadge({ status }: { status: OrderStatus }) {
  return <Badge tone={TONES[status]}>{LABELS[status]}</Badge>;
}

export function Orders() {
  const orders = useQuery({
    queryKey: ["orders"],
    queryFn: () => unwrap(api.GET("/v1/orders", { params: { query: { page_size: 50 } } })),
  });
  return (
    <section>
      <h1>My orders</h1>
      {orders.isPending && <Spinner label="Loading your orders…" />}
      {orders.isError && <ErrorMessage>{describeError(orders.error)}</ErrorMessage>}
      {orders.data?.items.length === 0 && (
        <p>
          No orders yet. <Link to="/shop">Go to the shop</Link>
        </p>
      )}
      <ul className="cards">
        {orders.data?.items.map((o) => (
          <li key={o.id} className="card" data-testid="order">
            <h2>
              <Link to={`/orders/${o.id}`}>Order of {formatNairobi(o.created_at)}</Link>
            </h2>
            <p>
              {o.items.map((i) => `${i.quantity} × ${i.product_name}`).join(", ")}
            </p>
            <p className="row">
              <OrderBadge status={o.status} /> <strong>{formatKes(o.total)}</strong>
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function OrderDetail() {
  const { orderId = "" } = useParams();
  const queryClient = useQueryClient();
  const order = useQuery({
    queryKey: ["orders", orderId],
    queryFn: () => unwrap(api.GET("/v1/orders/{order_id}", { params: { path: { order_id: orderId } } })),
    // Fulfilment moves on the shop's side; show it as it happens.
    refetchInterval: 10_000,
  });
  if (order.isPending) return <Spinner label="Loading the order…" />;
  if (order.isError) return <ErrorMessage>{describeError(order.error)}</ErrorMessage>;
  const o = order.data;
  const reached = STEPS.indexOf(o.status);
  return (
    <section className="narrow">
      <h1>Your order</h1>
      <div className="card" data-testid="order">
        <p className="row">
          <OrderBadge status={o.status} />
        </p>
        <ul className="lines">
          {o.items.map((i) => (
            <li key={i.product_id}>
              <span>
                {i.quantity} × {i.product_name}
              </span>
              <span className="amount">{formatKes(i.line_total)}</span>
            </li>
          ))}
        </ul>
        <dl className="totals">
          <dt>Subtotal</dt>
          <dd>{formatKes(o.subtotal)}</dd>
          <dt>Delivery</dt>
          <dd>{o.delivery_fee === 0 ? "Free" : formatKes(o.delivery_fee)}</dd>
          <dt>Total</dt>
          <dd>
            <strong>{formatKes(o.total)}</strong>
          </dd>
        </dl>
        {o.payment.receipt_number && (
          <p>
            M-Pesa receipt <strong className="receipt">{o.payment.receipt_number}</strong>
          </p>
        )}
        {o.status !== "cancelled" && (
          <PayButton
            available={o.status === "pending"}
            amount={o.total}
            purpose={`your order (${o.items.length} item${o.items.length === 1 ? "" : "s"})`}
            payment={o.payment}
            phone={typeof o.customer.phone === "string" ? `+${o.customer.phone}` : undefined}
            onDone={() => void queryClient.invalidateQueries({ queryKey: ["orders"] })}
            start={(phone) =>
              unwrap(api.POST("/v1/orders/{order_id}/pay", { params: { path: { order_id: o.id } }, body: { phone } }))
            }
          />
        )}
      </div>
      {o.status !== "cancelled" && (
        <ol className="steps" aria-label="Order progress">
          {STEPS.map((step, index) => (
            <li key={step} className={index <= reached ? "done" : ""} aria-current={index === reached ? "step" : undefined}>
              <span aria-hidden="true">{index <= reached ? "✓" : "○"}</span> {STEP_LABELS[step]}
            </li>
          ))}
        </ol>
      )}
      <p className="muted">Last update {formatNairobi(o.updated_at)}</p>
    </section>
  );
}
