// Kenyan mobile numbers, as session-api's `shared.phone` accepts them.
export const PHONE_FORMATS = "07XX XXX XXX, 01XX XXX XXX, 2547XX XXX XXX or +2547XX XXX XXX";

const SEPARATORS = /[\s\-()]/g;
const FORMS = /^(?:\+254|254|0)([17][0-9]{8})$/;

/** `254XXXXXXXXX`, or null when it is not a Kenyan mobile number. */
export function normalisePhone(value: string): string | null {
  const match = FORMS.exec(value.replace(SEPARATORS, ""));
  return match ? `254${match[1]}` : null;
}

/** The error to show under a phone field, or null when it is valid. */
export function phoneError(value: string): string | null {
  if (value.trim() === "") return `Enter your M-Pesa number: ${PHONE_FORMATS}.`;
  if (normalisePhone(value) === null) {
    return `That is not a Kenyan mobile number. Use ${PHONE_FORMATS}.`;
  }
  return null;
}

function group(digits: string, sizes: number[]): string {
  const parts: string[] = [];
  let rest = digits;
  for (const size of sizes) {
    if (rest === "") break;
    parts.push(rest.slice(0, size));
    rest = rest.slice(size);
  }
  if (rest !== "") parts.push(rest);
  return parts.join(" ");
}

/** Spaces the number as it is typed (`0712 345 678`, `+254 712 345 678`), keeping what the
 * person chose to type; anything that is not a digit or a leading `+` is dropped. */
export function formatPhoneInput(value: string): string {
  const plus = value.trimStart().startsWith("+");
  const digits = value.replace(/[^0-9]/g, "").slice(0, 12);
  if (plus) return `+${group(digits, [3, 3, 3, 3])}`;
  if (digits.startsWith("254")) return group(digits, [3, 3, 3, 3]);
  return group(digits, [4, 3, 3]);
}

/** A stored `2547XXXXXXXX` shown the way people write it: `0712 345 678`. */
export function displayPhone(stored: string | null | undefined): string {
  if (!stored) return "";
  const normal = normalisePhone(stored);
  return normal ? formatPhoneInput(`0${normal.slice(3)}`) : stored;
}
