import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { api, ApiError, describeError, unwrap } from "../api/client";
import { useAuth } from "../auth/auth";
import { formatPhoneInput, normalisePhone, PHONE_FORMATS } from "../lib/phone";
import { Button } from "../ui/Button";
import { Field } from "../ui/Field";
import { ErrorMessage } from "../ui/Status";
import { homeFor } from "./home";

export function SignUp() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const [form, setForm] = useState({ full_name: "", email: "", phone: "", password: "" });
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [phoneTouched, setPhoneTouched] = useState(false);

  const phoneInvalid = form.phone.trim() !== "" && normalisePhone(form.phone) === null;
  const phoneMessage =
    phoneTouched && phoneInvalid ? `That is not a Kenyan mobile number. Use ${PHONE_FORMATS}.` : null;
  const apiError = failure instanceof ApiError ? failure : null;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPhoneTouched(true);
    if (phoneInvalid) return;
    setBusy(true);
    setFailure(null);
    try {
      await unwrap(
        api.POST("/v1/auth/register", {
          body: {
            full_name: form.full_name,
            email: form.email,
            password: form.password,
            phone: normalisePhone(form.phone),
          },
        }),
      );
      const user = await signIn(form.email, form.password);
      navigate(homeFor(user), { replace: true });
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  }

  const set = (key: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) =>
    setForm({ ...form, [key]: key === "phone" ? formatPhoneInput(e.target.value) : e.target.value });

  return (
    <section className="card narrow">
      <h1>Create your account</h1>
      <form onSubmit={submit} noValidate>
        <Field label="Full name" name="full_name" autoComplete="name" required value={form.full_name} onChange={set("full_name")} error={apiError?.fieldMessage("full_name")} />
        <Field label="Email" name="email" type="email" autoComplete="email" required value={form.email} onChange={set("email")} error={apiError?.fieldMessage("email")} />
        <Field
          label="M-Pesa phone number"
          name="phone"
          type="tel"
          inputMode="tel"
          autoComplete="tel"
          value={form.phone}
          onChange={set("phone")}
          onBlur={() => setPhoneTouched(true)}
          hint={`Optional; we'll suggest it when you pay. ${PHONE_FORMATS}.`}
          error={phoneMessage ?? apiError?.fieldMessage("phone")}
        />
        <Field label="Password" name="password" type="password" autoComplete="new-password" minLength={8} required value={form.password} onChange={set("password")} hint="At least 8 characters." error={apiError?.fieldMessage("password")} />
        {failure !== null && (!apiError || apiError.fields.length === 0) && <ErrorMessage>{describeError(failure)}</ErrorMessage>}
        <Button type="submit" busy={busy} className="wide">
          Create account
        </Button>
      </form>
      <p>
        Already have an account? <Link to="/signin">Sign in</Link>
      </p>
    </section>
  );
}
