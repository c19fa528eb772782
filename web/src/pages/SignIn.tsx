import { useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { describeError } from "../api/client";
import { useAuth } from "../auth/auth";
import { Button } from "../ui/Button";
import { Field } from "../ui/Field";
import { ErrorMessage } from "../ui/Status";
import { landingFor } from "./home";

export function SignIn() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const user = await signIn(email, password);
      navigate(landingFor(user, location.state), { replace: true });
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card narrow">
      <h1>Sign in</h1>
      <p className="muted">Book therapy sessions and pay with M-Pesa.</p>
      <form onSubmit={submit}>
        <Field label="Email" name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        {error && <ErrorMessage>{error}</ErrorMessage>}
        <Button type="submit" busy={busy} className="wide">
          Sign in
        </Button>
      </form>
      <p>
        New here? <Link to="/signup">Create an account</Link>
      </p>
    </section>
  );
}
