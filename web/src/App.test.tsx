import { act, render, screen } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import type { AppConfig } from "./api/client";
import { App } from "./App";
import { AuthProvider } from "./auth/auth";
import { CartProvider } from "./lib/cart";
import { reportReachable } from "./lib/connection";

const CONFIG: AppConfig = {
  environment: "sandbox",
  test_mode: true,
  deployment: "production",
  business_name: "Tiba Therapy",
  paybill_number: "174379",
  prompt_window_s: 60,
  currency: "KES",
  payment_min_kes: 1,
  payment_max_kes: 250000,
  deposit_min_kes: 10,
  delivery_fee_kes: 300,
  free_delivery_from_kes: null,
};

function renderApp(config: AppConfig, path = "/") {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  client.setQueryData(["config"], config);
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[path]}>
        <AuthProvider>
          <CartProvider>
            <App />
          </CartProvider>
        </AuthProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

afterEach(() => act(() => reportReachable(true)));

describe("the app shell", () => {
  it("opens on the sign-in page", () => {
    renderApp({ ...CONFIG, test_mode: false, environment: "production" });
    expect(screen.getByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.getByLabelText("Email")).toBeInTheDocument();
    expect(screen.queryByText(/TEST MODE/)).not.toBeInTheDocument();
  });

  it("says TEST MODE in sandbox", () => {
    renderApp(CONFIG);
    expect(screen.getByText(/TEST MODE/)).toBeInTheDocument();
  });

  it("says when the connection is lost, and stops saying it when it is back", () => {
    renderApp(CONFIG);
    expect(screen.queryByText(/Connection lost/)).not.toBeInTheDocument();
    act(() => reportReachable(false));
    expect(screen.getByRole("status")).toHaveTextContent("Connection lost");
    act(() => reportReachable(true));
    expect(screen.queryByText(/Connection lost/)).not.toBeInTheDocument();
  });

  it("sends a signed-out visitor of a private page to sign in", () => {
    renderApp(CONFIG, "/wallet");
    expect(screen.getByRole("heading", { name: "Sign in" })).toBeInTheDocument();
  });
});
