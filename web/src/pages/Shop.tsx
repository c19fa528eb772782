import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, describeError, unwrap } from "../api/client";
import { useCart } from "../lib/cart";
import { formatKes } from "../lib/format";
import { Button } from "../ui/Button";
import { Banner, ErrorMessage, Spinner } from "../ui/Status";

export function Shop() {
  const cart = useCart();
  const [added, setAdded] = useState<string | null>(null);
  const products = useQuery({
    queryKey: ["products"],
    queryFn: () => unwrap(api.GET("/v1/products", { params: { query: { page_size: 100 } } })),
  });
  return (
    <section>
      <div className="row spread">
        <h1>Shop</h1>
        <Link className="btn btn-secondary" to="/checkout">
          Cart ({cart.count}) · {formatKes(cart.subtotal)}
        </Link>
      </div>
      {added && <Banner tone="ok" live>{added} added to your cart.</Banner>}
      {products.isPending && <Spinner label="Loading products…" />}
      {products.isError && <ErrorMessage>{describeError(products.error)}</ErrorMessage>}
      <ul className="cards">
        {products.data?.items.map((p) => (
          <li key={p.id} className="card" data-testid="product">
            <h2>{p.name}</h2>
            <p className="price">{formatKes(p.price)}</p>
            {p.description && <p className="muted">{p.description}</p>}
            <Button
              variant="secondary"
              aria-label={`Add ${p.name} to cart`}
              onClick={() => {
                cart.add({ productId: p.id, name: p.name, price: p.price });
                setAdded(p.name);
              }}
            >
              Add to cart
            </Button>
          </li>
        ))}
      </ul>
    </section>
  );
}
