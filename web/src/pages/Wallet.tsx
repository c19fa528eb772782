import { useState, type FormEvent } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, describeError, unwrap, type Schemas, type User } from "../api/client";
import { useAppConfig } from "../lib/config";
import { formatKes, formatNairobi, nairobiToIso } from "../lib/format";
import { PaymentDialog } from "../payment/PaymentDialog";
import { Button } from "../ui/Button";
import { Pager } from "../ui/Pager";
import { Field, Select } from "../ui/Field";
import { Badge, ErrorMessage, Spinner, type Tone } from "../ui/Status";

type Status = Schemas["AttemptStatus"];
const PAGE_SIZE = 10;
const STATUS: Record<Status, { label: string; tone: Tone }> = {
  processing: { label: "Waiting for M-Pesa", tone: "info" },
  paid: { label: "Credited", tone: "ok" },
  failed: { label: "Not paid", tone: "bad" },
  cancelled: { label: "Cancelled", tone: "muted" },
  timeout: { label: "No answer from M-Pesa", tone: "warn" },
  refunded: { label: "Refunded", tone: "muted" },
};

export function Wallet({ user }: { user: User }) {
  const config = useAppConfig();
  const queryClient = useQueryClient();
  const wallet = useQuery({ queryKey: ["wallet"], queryFn: () => unwrap(api.GET("/v1/wallet")) });
  const [amount, setAmount] = useState("");
  const [amountError, setAmountError] = useState<string | null>(null);
  const [depositing, setDepositing] = useState<number | null>(null);
  const min = config?.deposit_min_kes ?? 10;
  const max = config?.payment_max_kes ?? 250000;

  function startDeposit(event: FormEvent) {
    event.preventDefault();
    const value = Number(amount);
    if (!/^[0-9]+$/.test(amount) || value < min || value > max) {
      setAmountError(`Enter whole shillings from ${formatKes(min)} to ${formatKes(max)}.`);
      return;
    }
    setAmountError(null);
    setDepositing(value);
  }
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ["wallet"] });
    void queryClient.invalidateQueries({ queryKey: ["deposits"] });
  };

  return (
    <section>
      <h1>Wallet</h1>
      <div className="card">
        <p className="muted">Balance</p>
        {wallet.isPending && <Spinner label="Loading the balance…" />}
        {wallet.isError && <ErrorMessage>{describeError(wallet.error)}</ErrorMessage>}
        {wallet.data && (
          <p className="balance" data-testid="balance">
            {formatKes(wallet.data.balance)}
          </p>
        )}
        <form onSubmit={startDeposit} noValidate className="row deposit">
          <Field
            label="Amount to add (KES)"
            name="amount"
            inputMode="numeric"
            value={amount}
            onChange={(e) => setAmount(e.target.value.replace(/[^0-9]/g, ""))}
            error={amountError}
            hint={`From ${formatKes(min)}.`}
          />
          <Button type="submit">Add money</Button>
        </form>
      </div>
      <History />
      {depositing !== null && (
        <PaymentDialog
          open
          onClose={() => {
            setDepositing(null);
            setAmount("");
            refresh();
          }}
          purpose="money added to your wallet"
          amount={depositing}
          defaultPhone={user.phone ? `+${user.phone}` : ""}
          start={async (phone) =>
            (await unwrap(api.POST("/v1/wallet/deposits", { body: { amount: depositing, phone } }))).attempt
          }
          onSettled={refresh}
        />
      )}
    </section>
  );
}

function History() {
  const [status, setStatus] = useState<Status | "">("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [page, setPage] = useState(1);
  const query = {
    page,
    page_size: PAGE_SIZE,
    ...(status ? { status: [status] } : {}),
    ...(from ? { created_from: nairobiToIso(from, "00:00") } : {}),
    ...(to ? { created_to: nairobiToIso(to, "23:59") } : {}),
  };
  const deposits = useQuery({
    queryKey: ["deposits", query],
    queryFn: () => unwrap(api.GET("/v1/wallet/transactions", { params: { query } })),
    placeholderData: keepPreviousData,
    // A deposit still waiting on M-Pesa changes on its own.
    refetchInterval: (q) => (q.state.data?.items.some((d) => d.status === "processing") ? 3000 : false),
  });
  const pages = deposits.data ? Math.max(1, Math.ceil(deposits.data.total / PAGE_SIZE)) : 1;
  const filter = <T,>(set: (v: T) => void) => (v: T) => {
    set(v);
    setPage(1);
  };

  return (
    <section aria-labelledby="history">
      <h2 id="history">Deposits</h2>
      <div className="filters">
        <Select
          label="Status"
          value={status}
          onChange={filter((v: string) => setStatus(v as Status | ""))}
          options={[{ value: "", label: "All" }, ...Object.entries(STATUS).map(([value, s]) => ({ value, label: s.label }))]}
        />
        <Field label="From" type="date" value={from} onChange={(e) => filter(setFrom)(e.target.value)} />
        <Field label="To" type="date" value={to} onChange={(e) => filter(setTo)(e.target.value)} />
      </div>
      {deposits.isError && <ErrorMessage>{describeError(deposits.error)}</ErrorMessage>}
      {deposits.data?.items.length === 0 && <p className="muted">No deposits match.</p>}
      <ul className="list">
        {deposits.data?.items.map((d) => (
          <li key={d.id} data-testid="deposit">
            <details>
              <summary>
                <span>{formatNairobi(d.created_at)}</span>
                <strong>{formatKes(d.amount)}</strong>
                <Badge tone={STATUS[d.status].tone}>{STATUS[d.status].label}</Badge>
              </summary>
              <dl className="detail">
                <dt>Phone</dt>
                <dd>{d.phone}</dd>
                {d.receipt_number && (
                  <>
                    <dt>M-Pesa receipt</dt>
                    <dd className="receipt">{d.receipt_number}</dd>
                  </>
                )}
                {d.credited_at && (
                  <>
                    <dt>Credited</dt>
                    <dd>{formatNairobi(d.credited_at)}</dd>
                  </>
                )}
                {d.reason && (
                  <>
                    <dt>Why not</dt>
                    <dd>{d.reason.replace(/_/g, " ")}</dd>
                  </>
                )}
              </dl>
            </details>
          </li>
        ))}
      </ul>
      <Pager page={page} pages={pages} label="Deposit pages" onPage={setPage} />
    </section>
  );
}
