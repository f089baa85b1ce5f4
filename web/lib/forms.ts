// What the forms send, checked before sending the way the API checks it (so most mistakes show at once, by field);
// whatever the API still refuses comes back as ApiError.fields and shows under the same fields.

export type FieldErrors = Record<string, string>;

export type WorkloadForm = {
  name: string;
  driver: string;
  command: string;
  args: string;
  cpuCores: string;
  memoryMiB: string;
  nodeId: string;
  restartPolicy: string;
};

export type CreateWorkloadRequest = {
  name: string;
  driver: string;
  command: string;
  args: string[];
  cpuMillis: number;
  memoryBytes: string;
  nodeId?: string;
  restartPolicy: string;
  idempotencyKey: string;
};

const namePattern = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

/** Splits a command line's arguments on spaces, keeping "quoted parts" together. */
export function splitArgs(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}

export function workloadRequest(form: WorkloadForm, idempotencyKey: string): { request?: CreateWorkloadRequest; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const cpu = Number(form.cpuCores);
  const memory = Number(form.memoryMiB);
  if (!namePattern.test(form.name)) errors.name = "lowercase letters, digits, '.' and '-', 1-63 characters, starting and ending with a letter or digit";
  if (!["process", "sandbox", "qemu"].includes(form.driver)) errors.driver = "choose process, sandbox or qemu";
  if (form.driver !== "qemu" && form.command.trim() === "") errors.command = "the program to run is required";
  if (!Number.isFinite(cpu) || cpu <= 0 || cpu > 1024) errors.cpu_millis = "cores: a number above 0 (0.5 is half a core)";
  if (!Number.isInteger(memory) || memory < 16) errors.memory_bytes = "MiB: a whole number, at least 16";
  if (Object.keys(errors).length > 0) return { errors };
  return {
    errors,
    request: {
      name: form.name,
      driver: form.driver,
      command: form.command.trim(),
      args: splitArgs(form.args),
      cpuMillis: Math.round(cpu * 1000),
      memoryBytes: String(memory * 1024 * 1024),
      ...(form.nodeId ? { nodeId: form.nodeId } : {}),
      restartPolicy: form.restartPolicy,
      idempotencyKey,
    },
  };
}

export type JobForm = { name: string; tier: string; cpu: string; memoryMiB: string; command: string; args: string; runtimeSeconds: string };

export function jobRequest(form: JobForm): { request?: Record<string, unknown>; errors: FieldErrors } {
  const { errors, cpu, memory, runtime } = jobNeeds(form);
  if (form.name.trim() === "") errors.name = "a name is required";
  if (form.command.trim() === "") errors.command = "the program to run is required";
  if (Object.keys(errors).length > 0) return { errors };
  return {
    errors,
    request: {
      name: form.name.trim(),
      sla_tier: form.tier,
      cpu_required: cpu,
      memory_required: memory,
      command: form.command.trim(),
      args: splitArgs(form.args),
      estimated_runtime_seconds: runtime,
    },
  };
}

export type JobNeedsForm = Pick<JobForm, "tier" | "cpu" | "memoryMiB" | "runtimeSeconds">;

/** A job's tier and resources, checked as the Scheduler checks them on submit and on change. */
function jobNeeds(form: JobNeedsForm) {
  const errors: FieldErrors = {};
  const cpu = Number(form.cpu);
  const memory = Number(form.memoryMiB);
  const runtime = Number(form.runtimeSeconds);
  if (!["gold", "silver", "bronze"].includes(form.tier)) errors.sla_tier = "gold, silver or bronze";
  if (!Number.isFinite(cpu) || cpu < 0.001 || cpu > 1000) errors.cpu_required = "cores: a number from 0.001 to 1000";
  if (!Number.isInteger(memory) || memory <= 0) errors.memory_required = "MiB: a whole number above 0";
  if (!Number.isInteger(runtime) || runtime <= 0) errors.estimated_runtime_seconds = "seconds: a whole number above 0";
  return { errors, cpu, memory, runtime };
}

/** The PATCH body for a pending job: only the fields that differ from `was` (the Scheduler keeps the others). */
export function jobUpdate(form: JobNeedsForm, was: JobNeedsForm): { request?: Record<string, unknown>; errors: FieldErrors } {
  const { errors, cpu, memory, runtime } = jobNeeds(form);
  if (Object.keys(errors).length > 0) return { errors };
  const request: Record<string, unknown> = {};
  if (form.tier !== was.tier) request.sla_tier = form.tier;
  if (cpu !== Number(was.cpu)) request.cpu_required = cpu;
  if (memory !== Number(was.memoryMiB)) request.memory_required = memory;
  if (runtime !== Number(was.runtimeSeconds)) request.estimated_runtime_seconds = runtime;
  return { errors, request };
}

/** Token amounts are int64 strings in the smallest unit. */
export function amountError(text: string): string | undefined {
  return /^[1-9][0-9]{0,17}$/.test(text) ? undefined : "a whole number of units above 0";
}
