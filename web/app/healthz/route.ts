// The AppHost's health probe: the server is up and rendering.
export const dynamic = "force-dynamic";

export function GET(): Response {
  return Response.json({ status: "ok" });
}
