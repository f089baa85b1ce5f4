"use client";

import { useId, useState } from "react";
import { ApiError } from "@/lib/api";

/** A button that runs an action, shows it running, and says what went wrong beside it. */
export function ActionButton({ label, run, primary, confirm }: { label: string; run: () => Promise<unknown>; primary?: boolean; confirm?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  return (
    <span className="row">
      <button
        className={primary ? "primary" : undefined}
        disabled={busy}
        onClick={async () => {
          if (confirm && !window.confirm(confirm)) return;
          setBusy(true);
          setError(undefined);
          try {
            await run();
          } catch (e) {
            setError(e instanceof Error ? e.message : String(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        {label}
      </button>
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </span>
  );
}

/**
 * A labelled input whose error (from the form's own checks or the API's 400) shows under it: outside the label, so
 * the field's accessible name stays its label, and tied to the input by aria-describedby.
 */
export function Field({ label, name, error, ...input }: { label: string; name: string; error?: string } & React.InputHTMLAttributes<HTMLInputElement>) {
  const errorId = useId(); // two forms on a page may share field names
  return (
    <div className="field">
      <label>
        {label}
        <input name={name} aria-invalid={error ? true : undefined} aria-describedby={error ? errorId : undefined} {...input} />
      </label>
      <FieldError id={errorId} error={error} />
    </div>
  );
}

type Option = string | { value: string; label: string };

export function Choice({ label, name, options, error, ...select }: { label: string; name: string; options: Option[]; error?: string } & React.SelectHTMLAttributes<HTMLSelectElement>) {
  const errorId = useId();
  return (
    <div className="field">
      <label>
        {label}
        <select name={name} aria-invalid={error ? true : undefined} aria-describedby={error ? errorId : undefined} {...select}>
          {options.map((o) => {
            const { value, label } = typeof o === "string" ? { value: o, label: o } : o;
            return (
              <option key={value} value={value}>
                {label}
              </option>
            );
          })}
        </select>
      </label>
      <FieldError id={errorId} error={error} />
    </div>
  );
}

function FieldError({ id, error }: { id: string; error: string | undefined }) {
  return error ? (
    <span id={id} className="field-error">
      {error}
    </span>
  ) : null;
}

/** The API's field errors by our field names, or the whole message when it named no field. */
function apiErrors(e: unknown): { fields: Record<string, string>; message?: string } {
  if (e instanceof ApiError) return { fields: e.fields, message: Object.keys(e.fields).length ? undefined : e.message };
  return { fields: {}, message: e instanceof Error ? e.message : String(e) };
}

export function Failure({ error }: { error: string | undefined }) {
  return error ? (
    <p role="alert" className="error">
      {error}
    </p>
  ) : null;
}

/**
 * A form's sending state: `submit(action)` runs the API call, and on failure shows the API's field errors under their
 * fields and any other message below the form. Answers whether it succeeded.
 */
export function useSubmit() {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (action: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setMessage(undefined);
    try {
      await action();
      setErrors({});
      return true;
    } catch (e) {
      const { fields, message } = apiErrors(e);
      setErrors(fields);
      setMessage(message);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { errors, setErrors, message, busy, submit };
}
