import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, describeError, unwrap, type Therapist, type User } from "../api/client";
import { formatKes } from "../lib/format";
import { Button } from "../ui/Button";
import { Field } from "../ui/Field";
import { Banner, ErrorMessage, Spinner } from "../ui/Status";

/** A therapist's rate, specialties, bio and whether new clients can book. */
export function TherapistSettings({ user }: { user: User }) {
  const profile = useQuery({
    queryKey: ["therapist", user.id],
    queryFn: () =>
      unwrap(api.GET("/v1/therapists/{therapist_id}", { params: { path: { therapist_id: user.id } } })),
  });
  if (profile.isPending) return <Spinner label="Loading your practice…" />;
  if (profile.isError) return <ErrorMessage>{describeError(profile.error)}</ErrorMessage>;
  return <SettingsForm therapist={profile.data} />;
}

function SettingsForm({ therapist }: { therapist: Therapist }) {
  const queryClient = useQueryClient();
  const [rate, setRate] = useState(String(therapist.session_rate));
  const [specialties, setSpecialties] = useState(therapist.specialties.join(", "));
  const [bio, setBio] = useState(therapist.bio);
  const [accepting, setAccepting] = useState(therapist.is_accepting_clients);
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH("/v1/therapists/me", {
          body: {
            session_rate: Number(rate),
            bio,
            specialties: specialties
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
            is_accepting_clients: accepting,
          },
        }),
      ),
    onSuccess: (saved) => queryClient.setQueryData(["therapist", saved.id], saved),
  });
  const rateError =
    save.error instanceof ApiError ? save.error.fieldMessage("session_rate") : undefined;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!save.isPending) save.mutate();
  }

  return (
    <section className="card narrow">
      <h2>Your practice</h2>
      <form onSubmit={submit} noValidate>
        <Field
          label="Session rate (KES)"
          name="session_rate"
          inputMode="numeric"
          value={rate}
          onChange={(e) => setRate(e.target.value.replace(/[^0-9]/g, ""))}
          hint={`Clients see ${formatKes(Number(rate) || 0)} a session; bookings already made keep their price.`}
          error={rateError}
        />
        <Field label="Specialties" name="specialties" value={specialties} onChange={(e) => setSpecialties(e.target.value)} hint="Separated by commas, e.g. anxiety, grief, couples." />
        <div className="field">
          <label htmlFor="bio">About you</label>
          <textarea id="bio" name="bio" rows={4} maxLength={2000} value={bio} onChange={(e) => setBio(e.target.value)} />
        </div>
        <label className="radio">
          <input type="checkbox" checked={accepting} onChange={(e) => setAccepting(e.target.checked)} />
          <span>Taking new clients</span>
        </label>
        {save.isError && !rateError && <ErrorMessage>{describeError(save.error)}</ErrorMessage>}
        {save.isSuccess && <Banner tone="ok" live>Saved.</Banner>}
        <Button type="submit" busy={save.isPending}>
          Save practice
        </Button>
      </form>
    </section>
  );
}
