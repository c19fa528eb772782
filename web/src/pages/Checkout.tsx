import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { api, ApiError, describeError, unwrap, type User } from "../api/client";
import { useCart } from "../lib/cart";
import { useAppConfig } from "../lib/config";
import { formatKes } from "../lib/format";
import { displayPhone, formatPhoneInput, normalisePhone, phoneError } from "../lib/phone";
import { Button } from "../ui/Button";
import { Field } from "../ui/Field";
import { RadioGroup } from "../ui/Radio";
import { ErrorMessage } from "../ui/Status";

type Method = "delivery" | "pickup";

export function Checkout({ user }: { user: User }) {
  const cart = useCart();
  const config = useAppConfig();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [method, setMethod] = useState<Method>("delivery");
  const [address, setAddress] = useState("");
  const [city, setCity] = useState("Nairobi");
  const [notes, setNotes] = useState("");
  const [name, setName] = useState(user.full_name);
  const [phone, setPhone] = useState(displayPhone(user.phone));
  const [touched, setTouched] = useState(false);

  const fee =
    method === "pickup" || !config
      ? 0
      : config.free_delivery_from_kes !== null && cart.subtotal >= config.free_delivery_from_kes
        ? 0
        : config.delivery_fee_kes;
  const missingAddress = method === "delivery" && (address.trim().length < 3 || city.trim().length < 2);

  const place = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/v1/orders", {
          body: {
            items: cart.lines.map((l) => ({ product_id: l.productId, quantity: l.quantity })),
            delivery:
              method === "delivery"
                ? { method, address, city, notes }
                : { method, address: null, city: null, notes },
            customer: { name, phone: normalisePhone(phone) ?? phone, email: user.email },
          },
        }),
      ),
    onSuccess: (order) => {
      cart.clear();
      void queryClient.invalidateQueries({ queryKey: ["orders"] });
      navigate(`/orders/${order.id}`);
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (missingAddress || phoneError(phone) !== null || place.isPending) return;
    place.mutate();
  }

  if (cart.lines.length === 0) {
    return (
      <section className="card narrow">
        <h1>Your cart is empty</h1>
        <Link to="/shop">Go to the shop</Link>
      </section>
    );
  }
  const apiError = place.error instanceof ApiError ? place.error : null;
  return (
    <section className="narrow">
      <h1>Checkout</h1>
      <div className="card">
        <h2>Your cart</h2>
        <ul className="lines">
          {cart.lines.map((l) => (
            <li key={l.productId}>
              <span>{l.name}</span>
              <span className="row">
                <Button variant="secondary" className="small" aria-label={`One fewer ${l.name}`} onClick={() => cart.setQuantity(l.productId, l.quantity - 1)}>
                  −
                </Button>
                <span aria-label={`${l.quantity} of ${l.name}`}>{l.quantity}</span>
                <Button variant="secondary" className="small" aria-label={`One more ${l.name}`} onClick={() => cart.setQuantity(l.productId, l.quantity + 1)}>
                  +
                </Button>
                <span className="amount">{formatKes(l.price * l.quantity)}</span>
              </span>
            </li>
          ))}
        </ul>
      </div>
      <form onSubmit={submit} noValidate className="card">
        <RadioGroup<Method>
          legend="How do you want it?"
          name="method"
          value={method}
          onChange={setMethod}
          options={[
            { value: "delivery", label: "Delivery", hint: config ? formatKes(config.delivery_fee_kes) : undefined },
            { value: "pickup", label: "Pick up", hint: "free" },
          ]}
        />
        {method === "delivery" && (
          <>
            <Field label="Delivery address" name="address" autoComplete="street-address" value={address} onChange={(e) => setAddress(e.target.value)} error={touched && address.trim().length < 3 ? "Enter the address we deliver to." : apiError?.fieldMessage("address")} />
            <Field label="City or town" name="city" autoComplete="address-level2" value={city} onChange={(e) => setCity(e.target.value)} error={touched && city.trim().length < 2 ? "Enter the city or town." : undefined} />
          </>
        )}
        <Field label="Notes for delivery (optional)" name="notes" value={notes} onChange={(e) => setNotes(e.target.value)} />
        <Field label="Your name" name="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
        <Field
          label="Your phone number"
          name="phone"
          type="tel"
          inputMode="tel"
          value={phone}
          onChange={(e) => setPhone(formatPhoneInput(e.target.value))}
          onBlur={() => setTouched(true)}
          error={touched ? phoneError(phone) : null}
          hint="For the rider, and where the M-Pesa prompt goes first."
        />
        <dl className="totals">
          <dt>Subtotal</dt>
          <dd>{formatKes(cart.subtotal)}</dd>
          <dt>Delivery</dt>
          <dd>{fee === 0 ? "Free" : formatKes(fee)}</dd>
          <dt>Total</dt>
          <dd>
            <strong>{formatKes(cart.subtotal + fee)}</strong>
          </dd>
        </dl>
        {place.isError && <ErrorMessage>{describeError(place.error)}</ErrorMessage>}
        <Button type="submit" busy={place.isPending} className="wide">
          Place order
        </Button>
        <p className="muted">You pay with M-Pesa on the next screen.</p>
      </form>
    </section>
  );
}
