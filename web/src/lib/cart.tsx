import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

export type CartLine = { productId: string; name: string; price: number; quantity: number };

type Cart = {
  lines: CartLine[];
  count: number;
  subtotal: number;
  add: (line: Omit<CartLine, "quantity">, quantity?: number) => void;
  setQuantity: (productId: string, quantity: number) => void;
  clear: () => void;
};

const KEY = "mpesa.cart";
const MAX_QUANTITY = 99;
const CartContext = createContext<Cart | null>(null);

function load(): CartLine[] {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) ?? "[]") as CartLine[];
    return Array.isArray(stored) ? stored : [];
  } catch {
    return [];
  }
}

/** The cart lives in this browser (localStorage) until the order is placed. */
export function CartProvider({ children }: { children: ReactNode }) {
  const [lines, setLines] = useState<CartLine[]>(load);
  const save = useCallback((next: CartLine[]) => {
    localStorage.setItem(KEY, JSON.stringify(next));
    setLines(next);
  }, []);
  const add = useCallback(
    (line: Omit<CartLine, "quantity">, quantity = 1) => {
      const current = load();
      const found = current.find((l) => l.productId === line.productId);
      save(
        found
          ? current.map((l) =>
              l === found ? { ...l, quantity: Math.min(MAX_QUANTITY, l.quantity + quantity) } : l,
            )
          : [...current, { ...line, quantity }],
      );
    },
    [save],
  );
  const setQuantity = useCallback(
    (productId: string, quantity: number) =>
      save(
        load()
          .map((l) => (l.productId === productId ? { ...l, quantity: Math.min(MAX_QUANTITY, quantity) } : l))
          .filter((l) => l.quantity > 0),
      ),
    [save],
  );
  const clear = useCallback(() => save([]), [save]);
  const value = useMemo<Cart>(
    () => ({
      lines,
      count: lines.reduce((n, l) => n + l.quantity, 0),
      subtotal: lines.reduce((n, l) => n + l.price * l.quantity, 0),
      add,
      setQuantity,
      clear,
    }),
    [lines, add, setQuantity, clear],
  );
  return <CartContext.Provider value={value}>{children}</CartContext.Provider>;
}

export function useCart(): Cart {
  const cart = useContext(CartContext);
  if (!cart) throw new Error("useCart outside CartProvider");
  return cart;
}
