import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useParams } from "react-router";
import { api, describeError, unwrap, type Schemas } from "../api/client";
import { formatKes, nairobiToIso, nairobiToday } from "../lib/format";
import { Button } from "../ui/Button";
import { Field, Select } from "../ui/Field";
import { ErrorMessage, Spinner } from "../ui/Status";

const SESSION_TYPES: { value: Schemas["SessionType"]; label: string }[] = [
  { value: "individual", label: "Individual" },
  { value: "couples", label: "Couples" },
  { value: "family", label: "Family" },
  { value: "group", label: "Group" },
];

function tomorrow(): string {
  const date = new Date(Date.now() + 24 * 3600 * 1000);
  return nairobiToday(date);
}

export function Book() {
  const { therapistId = "" } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const therapist = useQuery({
    queryKey: ["therapist", therapistId],
    queryFn: () =>
      unwrap(api.GET("/v1/therapists/{therapist_id}", { params: { path: { therapist_id: therapistId } } })),
  });
  const [date, setDate] = useState(tomorrow);
  const [time, setTime] = useState("10:00");
  const [sessionType, setSessionType] = useState<Schemas["SessionType"]>("individual");
  const [notes, setNotes] = useState("");
  const book = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/bookings", {
          body: {
            therapist_id: therapistId,
            scheduled_at: nairobiToIso(date, time),
            session_type: sessionType,
            notes,
          },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["bookings"] });
      navigate("/bookings");
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!book.isPending) book.mutate();
  }

  if (therapist.isPending) return <Spinner label="Loading…" />;
  if (therapist.isError) return <ErrorMessage>{describeError(therapist.error)}</ErrorMessage>;
  const t = therapist.data;
  return (
    <section className="card narrow">
      <h1>Book a session with {t.full_name}</h1>
      <p className="price">{formatKes(t.session_rate)} a session</p>
      <form onSubmit={submit}>
        <Field label="Date" name="date" type="date" min={nairobiToday()} required value={date} onChange={(e) => setDate(e.target.value)} />
        <Field label="Time (Nairobi)" name="time" type="time" step={900} required value={time} onChange={(e) => setTime(e.target.value)} hint="East Africa Time (UTC+3)." />
        <Select label="Session type" name="session_type" value={sessionType} onChange={(v) => setSessionType(v as Schemas["SessionType"])} options={SESSION_TYPES} />
        <div className="field">
          <label htmlFor="notes">Notes for your therapist (optional)</label>
          <textarea id="notes" name="notes" rows={3} maxLength={2000} value={notes} onChange={(e) => setNotes(e.target.value)} />
        </div>
        {book.isError && <ErrorMessage>{describeError(book.error)}</ErrorMessage>}
        <Button type="submit" busy={book.isPending} className="wide">
          Request booking
        </Button>
      </form>
      <p className="muted">Your therapist approves the request; you pay with M-Pesa once it is approved.</p>
    </section>
  );
}
