import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BrowserRouter } from "react-router";
import { ApiError } from "./api/client";
import { App } from "./App";
import { AuthProvider } from "./auth/auth";
import { CartProvider } from "./lib/cart";
import { reportReachable } from "./lib/connection";
import "./styles.css";

// A network failure (fetch's TypeError) means the API is out of reach; any answer means it is back.
const watch = {
  onError: (error: unknown) => {
    if (error instanceof TypeError) reportReachable(false);
    else if (error instanceof ApiError && error.status < 500) reportReachable(true);
  },
  onSuccess: () => reportReachable(true),
};

const queryClient = new QueryClient({
  queryCache: new QueryCache(watch),
  mutationCache: new MutationCache(watch),
  defaultOptions: {
    queries: {
      // A refusal will not change on a retry; a network error might.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
      refetchOnWindowFocus: true,
    },
  },
});

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <AuthProvider>
            <CartProvider>
              <App />
            </CartProvider>
          </AuthProvider>
        </BrowserRouter>
      </QueryClientProvider>
    </StrictMode>,
  );
}
