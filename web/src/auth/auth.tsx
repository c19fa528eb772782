import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, tokenStore, unwrap, type User } from "../api/client";

type Auth = {
  user: User | null;
  loading: boolean;
  signIn: (email: string, password: string) => Promise<User>;
  signOut: () => void;
};

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [token, setToken] = useState<string | null>(() => tokenStore.get());
  const me = useQuery({
    queryKey: ["me", token],
    queryFn: () => unwrap(api.GET("/v1/me")),
    enabled: token !== null,
    retry: false,
    staleTime: 60_000,
  });

  const signIn = useCallback(
    async (email: string, password: string) => {
      const issued = await unwrap(api.POST("/v1/auth/login", { body: { email, password } }));
      tokenStore.set(issued.access_token);
      const user = await unwrap(api.GET("/v1/me"));
      queryClient.setQueryData(["me", issued.access_token], user);
      setToken(issued.access_token);
      return user;
    },
    [queryClient],
  );

  const signOut = useCallback(() => {
    tokenStore.clear();
    setToken(null);
    queryClient.clear();
  }, [queryClient]);

  const value = useMemo<Auth>(
    () => ({
      user: token !== null && !me.isError ? (me.data ?? null) : null,
      loading: token !== null && me.isPending,
      signIn,
      signOut,
    }),
    [token, me.data, me.isError, me.isPending, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
