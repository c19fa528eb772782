import type { ButtonHTMLAttributes } from "react";

type Props = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: "primary" | "secondary" | "danger" | "link";
  busy?: boolean;
};

export function Button({ variant = "primary", busy = false, className, children, ...rest }: Props) {
  return (
    <button
      type="button"
      {...rest}
      className={`btn btn-${variant}${className ? ` ${className}` : ""}`}
      aria-busy={busy || undefined}
      disabled={rest.disabled || busy}
    >
      {children}
    </button>
  );
}
