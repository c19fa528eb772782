import type { Attempt } from "../api/client";
import { formatKes, formatNairobi } from "../lib/format";

const PAYS_FOR: Record<Attempt["payable_type"], string> = {
  booking: "Therapy session",
  order: "Shop order",
  deposit: "Wallet top-up",
};

export function paysFor(attempt: Pick<Attempt, "payable_type">): string {
  return PAYS_FOR[attempt.payable_type];
}

/** A paid attempt as a plain-text receipt. */
export function receiptText(attempt: Attempt): string {
  return [
    "Payment receipt",
    `For: ${paysFor(attempt)}`,
    `M-Pesa receipt: ${attempt.receipt_number ?? ""}`,
    `Amount: ${formatKes(attempt.amount).replace("\u00a0", " ")}`,
    `Paid: ${attempt.paid_at ? `${formatNairobi(attempt.paid_at)} (Nairobi time)` : ""}`,
    `Phone: ${attempt.phone}`,
    `Account reference: ${attempt.account_reference}`,
    "",
  ].join("\n");
}

export function downloadReceipt(attempt: Attempt): void {
  const url = URL.createObjectURL(new Blob([receiptText(attempt)], { type: "text/plain" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `receipt-${attempt.receipt_number ?? attempt.id}.txt`;
  link.click();
  URL.revokeObjectURL(url);
}
