import { tokenStore, type Attempt } from "../api/client";
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

/** Save session-api's PDF receipt; the plain-text one when the PDF cannot be had. */
export async function downloadReceipt(attempt: Attempt): Promise<void> {
  let file: Blob | null = null;
  try {
    const response = await fetch(`/v1/payments/${encodeURIComponent(attempt.id)}/receipt.pdf`, {
      headers: { Authorization: `Bearer ${tokenStore.get() ?? ""}` },
    });
    if (response.ok) file = await response.blob();
  } catch {
    file = null;
  }
  const pdf = file !== null;
  const url = URL.createObjectURL(file ?? new Blob([receiptText(attempt)], { type: "text/plain" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `receipt-${attempt.receipt_number ?? attempt.id}.${pdf ? "pdf" : "txt"}`;
  link.click();
  URL.revokeObjectURL(url);
}
