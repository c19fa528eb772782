import { useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, describeError, unwrap, type Attempt } from "../api/client";
import { formatKes, formatNairobi } from "../lib/format";
import { downloadReceipt, paysFor } from "../payment/receipt";
import { Button } from "../ui/Button";
import { Pager } from "../ui/Pager";
import { Badge, ErrorMessage, Spinner, type Tone } from "../ui/Status";

const PAGE_SIZE = 20;
const STATUS: Record<Attempt["status"], { label: string; tone: Tone }> = {
  processing: { label: "Waiting for M-Pesa", tone: "info" },
  paid: { label: "Paid", tone: "ok" },
  failed: { label: "Not paid", tone: "bad" },
  cancelled: { label: "Cancelled", tone: "muted" },
  timeout: { label: "No answer from M-Pesa", tone: "warn" },
  refunded: { label: "Refunded", tone: "muted" },
};

/** Every payment attempt, newest first, with its receipt. */
export function Payments() {
  const [page, setPage] = useState(1);
  const payments = useQuery({
    queryKey: ["payments", page],
    queryFn: () =>
      unwrap(api.GET("/v1/payments", { params: { query: { page, page_size: PAGE_SIZE } } })),
    placeholderData: keepPreviousData,
  });
  const pages = payments.data ? Math.max(1, Math.ceil(payments.data.total / PAGE_SIZE)) : 1;
  return (
    <section>
      <h1>Payments</h1>
      {payments.isPending && <Spinner label="Loading your payments…" />}
      {payments.isError && <ErrorMessage>{describeError(payments.error)}</ErrorMessage>}
      {payments.data?.items.length === 0 && <p className="muted">No payments yet.</p>}
      <ul className="list">
        {payments.data?.items.map((p) => (
          <li key={p.id} className="payment" data-testid="payment">
            <div>
              <strong>{paysFor(p)}</strong> · {formatKes(p.amount)}
              <br />
              <span className="muted">{formatNairobi(p.created_at)}</span>
            </div>
            <Badge tone={STATUS[p.status].tone}>{STATUS[p.status].label}</Badge>
            {p.receipt_number && (
              <>
                <span className="receipt">{p.receipt_number}</span>
                <Button variant="secondary" className="small" onClick={() => void downloadReceipt(p)} aria-label={`Download receipt ${p.receipt_number}`}>
                  Receipt
                </Button>
              </>
            )}
          </li>
        ))}
      </ul>
      <Pager page={page} pages={pages} label="Payment pages" onPage={setPage} />
    </section>
  );
}
