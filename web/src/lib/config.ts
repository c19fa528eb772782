import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type AppConfig } from "../api/client";

export function useAppConfig(): AppConfig | undefined {
  return useQuery({
    queryKey: ["config"],
    queryFn: () => unwrap(api.GET("/v1/config")),
    staleTime: Infinity,
  }).data;
}
