import { describe, expect, it } from "vitest";
import { ApiError } from "@/lib/api";
import { amountError, jobRequest, jobUpdate, splitArgs, workloadRequest } from "@/lib/forms";

const good = { name: "web-1", driver: "process", command: "sleep", args: "60", cpuCores: "0.5", memoryMiB: "128", nodeId: "", restartPolicy: "never" };

describe("workload form", () => {
  it("builds the API's request from a good form", () => {
    const { request, errors } = workloadRequest(good, "key-1");
    expect(errors).toEqual({});
    expect(request).toEqual({ name: "web-1", driver: "process", command: "sleep", args: ["60"], cpuMillis: 500, memoryBytes: String(128 * 1024 * 1024), restartPolicy: "never", idempotencyKey: "key-1" });
  });

  it("names every bad field with the API's field names and builds nothing", () => {
    const { request, errors } = workloadRequest({ ...good, name: "Web 1", command: " ", cpuCores: "0", memoryMiB: "8.5" }, "k");
    expect(request).toBeUndefined();
    expect(Object.keys(errors).sort()).toEqual(["command", "cpu_millis", "memory_bytes", "name"]);
  });

  it("keeps quoted arguments together", () => {
    expect(splitArgs(`-c "echo hello world" 'a b' c`)).toEqual(["-c", "echo hello world", "a b", "c"]);
  });
});

describe("job form and amounts", () => {
  it("refuses a job without command or with a bad tier", () => {
    const { errors } = jobRequest({ name: "j", tier: "platinum", cpu: "1", memoryMiB: "64", command: "", args: "", runtimeSeconds: "10" });
    expect(Object.keys(errors).sort()).toEqual(["command", "sla_tier"]);
  });

  it("changes a pending job by sending only the fields that differ", () => {
    const was = { tier: "silver", cpu: "512", memoryMiB: "64", runtimeSeconds: "30" };
    expect(jobUpdate({ ...was, cpu: "0.5" }, was)).toEqual({ errors: {}, request: { cpu_required: 0.5 } });
    expect(jobUpdate({ ...was, cpu: "512.0", tier: "gold" }, was).request).toEqual({ sla_tier: "gold" });
    expect(jobUpdate(was, was).request).toEqual({});
  });

  it("refuses a change the Scheduler would refuse, by field", () => {
    const was = { tier: "silver", cpu: "1", memoryMiB: "64", runtimeSeconds: "30" };
    const { request, errors } = jobUpdate({ tier: "silver", cpu: "-1", memoryMiB: "1.5", runtimeSeconds: "0" }, was);
    expect(request).toBeUndefined();
    expect(Object.keys(errors).sort()).toEqual(["cpu_required", "estimated_runtime_seconds", "memory_required"]);
    expect(jobUpdate({ ...was, cpu: "1001" }, was).errors.cpu_required).toBeDefined();
  });

  it("takes token amounts as whole positive units", () => {
    expect(amountError("100")).toBeUndefined();
    expect(amountError("0")).toBeDefined();
    expect(amountError("1.5")).toBeDefined();
    expect(amountError("-3")).toBeDefined();
  });
});

describe("ApiError", () => {
  it("reads the gateway's 400 into fields", async () => {
    const body = { code: 3, message: "memory_bytes: too big", details: [{ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field: "memory_bytes", description: "too big" }] }] };
    const error = await ApiError.from(new Response(JSON.stringify(body), { status: 400 }));
    expect(error.status).toBe(400);
    expect(error.fields).toEqual({ memory_bytes: "too big" });
  });
});
