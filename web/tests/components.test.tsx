// @vitest-environment happy-dom
import { act, cleanup, configure, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EditJob } from "@/app/scheduler/EditJob";
import { SubmitJob } from "@/app/scheduler/SubmitJob";
import { ProvidePlatform, useResource } from "@/components/PlatformContext";
import { badRequest, type Call, fakePlatform } from "./fakes";

afterEach(cleanup);
// The suite runs beside the whole platform's on two cores: give renders and the 300 ms reload throttle room.
configure({ asyncUtilTimeout: 10_000 });

const inForm = (name: string) => screen.getByRole("form", { name });
const field = (label: string) => screen.getByLabelText(label) as HTMLInputElement;
const type = (label: string, value: string) => fireEvent.change(field(label), { target: { value } });

describe("the job forms", () => {
  it("show their own checks by field at once and send nothing", async () => {
    const { platform, calls } = fakePlatform(() => ({}));
    render(<ProvidePlatform platform={platform}><SubmitJob onSubmitted={() => undefined} /></ProvidePlatform>);
    type("CPU cores needed", "0");
    fireEvent.submit(inForm("Submit a job"));
    await screen.findByText("a name is required");
    expect(screen.getByText("the program to run is required")).toBeTruthy();
    expect(screen.getByText("cores: a number from 0.001 to 1000")).toBeTruthy();
    expect(field("Job name").getAttribute("aria-invalid")).toBe("true");
    expect(calls).toHaveLength(0);
  });

  it("put the API's 400 under the field it names, then submit and start over", async () => {
    let refuse = true;
    const { platform, calls } = fakePlatform(() => (refuse ? badRequest("memory_required", "must be between 1 and 16777216 MiB") : { jobId: "j" }));
    const submitted = vi.fn();
    render(<ProvidePlatform platform={platform}><SubmitJob onSubmitted={submitted} /></ProvidePlatform>);
    type("Job name", "render");
    type("Job command", "true");
    type("Memory needed (MiB)", "99999999");
    fireEvent.submit(inForm("Submit a job"));
    const error = await screen.findByText("must be between 1 and 16777216 MiB");
    expect(field("Memory needed (MiB)").getAttribute("aria-describedby")).toBe(error.id);
    expect(calls[0]).toMatchObject({ method: "POST", path: "/api/scheduler/jobs", body: { name: "render", memory_required: 99999999 } });
    expect(submitted).not.toHaveBeenCalled();

    refuse = false;
    type("Memory needed (MiB)", "64");
    fireEvent.submit(inForm("Submit a job"));
    await waitFor(() => expect(submitted).toHaveBeenCalledOnce());
    expect(screen.queryByText("must be between 1 and 16777216 MiB")).toBeNull();
    expect(field("Job name").value).toBe("");
  });

  it("change a pending job with only the fields that differ", async () => {
    const { platform, calls } = fakePlatform(() => ({}));
    const saved = vi.fn();
    const job = { jobId: "7f1c", name: "big", slaTier: "silver", cpuRequired: 512, memoryRequired: "64", estimatedRuntimeSeconds: "30" };
    render(<ProvidePlatform platform={platform}><EditJob job={job} onSaved={saved} /></ProvidePlatform>);
    type("CPU cores needed", "0.5");
    fireEvent.submit(inForm("Edit job big"));
    await waitFor(() => expect(saved).toHaveBeenCalledOnce());
    expect(calls).toEqual([{ method: "PATCH", path: "/api/scheduler/jobs/7f1c", body: { cpu_required: 0.5 } }]);
  });
});

function Jobs() {
  const jobs = useResource<{ count: number }>("/api/scheduler/jobs", ["jobs"]);
  return <p>{jobs.data ? `read ${jobs.data.count}` : "loading"}</p>;
}

describe("useResource", () => {
  it("reads by REST, then again on its topic's event and on resync, but not on another topic's", async () => {
    let reads = 0;
    const { platform, sockets } = fakePlatform((call: Call) => (call.path === "/api/scheduler/jobs" ? { count: ++reads } : {}));
    render(<ProvidePlatform platform={platform}><Jobs /></ProvidePlatform>);
    await screen.findByText("read 1");
    await waitFor(() => expect(sockets).toHaveLength(1));
    act(() => sockets[0]!.open());
    expect(sockets[0]!.sent).toEqual([{ type: "subscribe", topics: ["jobs"] }]);

    act(() => sockets[0]!.hub({ type: "event", topic: "jobs", id: "1", event: { id: "e1", type: "job.completed", source: "scheduler", time: "", data: {} } }));
    await screen.findByText("read 2");
    act(() => sockets[0]!.hub({ type: "resync", topic: "jobs" }));
    await screen.findByText("read 3");
    act(() => sockets[0]!.hub({ type: "event", topic: "nodes", id: "9", event: { id: "e9", type: "node.ready", source: "compute", time: "", data: {} } }));
    await new Promise((r) => setTimeout(r, 500));
    expect(reads).toBe(3);
  });
});
