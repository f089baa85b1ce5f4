/**
 * The gateway's address, read on the server at request time: the AppHost passes it as Aspire does for a reference
 * (`services__gateway__http__0`); `PLATFORM_GATEWAY_URL` sets it when the panel runs on its own.
 */
export function gatewayAddress(): string {
  return process.env.PLATFORM_GATEWAY_URL ?? process.env.services__gateway__http__0 ?? "http://127.0.0.1:8080";
}
