"use client";

// Time-series charts drawn by uPlot (loaded in the browser only): a sparkline for the dashboard's cards and a chart with
// axes and a legend for the metric explorer. Times are Unix seconds, as uPlot wants them.

import { useEffect, useRef } from "react";
import type uPlot from "uplot";

type Series = { label: string; values: (number | null)[] };

function chartColor(index: number): string {
  const palette = ["var(--chart)", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4b5563"];
  const css = getComputedStyle(document.documentElement);
  const value = palette[index % palette.length]!;
  return value.startsWith("var(") ? css.getPropertyValue("--chart").trim() || "#2563eb" : value;
}

function useUPlot(make: (U: typeof uPlot, element: HTMLDivElement) => uPlot | null, dependencies: unknown[]) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let chart: uPlot | null = null;
    let cancelled = false;
    void import("uplot").then(({ default: U }) => {
      if (cancelled || !element.current) return;
      element.current.replaceChildren();
      chart = make(U, element.current);
    });
    return () => {
      cancelled = true;
      chart?.destroy();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, dependencies);
  return element;
}

export function Sparkline({ times, values, label }: { times: number[]; values: number[]; label: string }) {
  // One chart for the card's life; each update only hands it the new data.
  const chart = useRef<uPlot | null>(null);
  const data = useRef<uPlot.AlignedData>([times, values]);
  data.current = [times, values];
  const element = useUPlot((U, el) => {
    chart.current = new U(
      {
        width: 180,
        height: 40,
        legend: { show: false },
        cursor: { show: false },
        axes: [{ show: false }, { show: false }],
        scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > min ? max : min + 1] } },
        series: [{}, { stroke: chartColor(0), width: 1.5, points: { show: false } }],
      },
      data.current,
      el,
    );
    return chart.current;
  }, []);
  useEffect(() => chart.current?.setData([times, values]), [times, values]);
  return <div ref={element} role="img" aria-label={`${label}: the last ${times.length} updates`} />;
}

export function TimeChart({ times, series, title }: { times: number[]; series: Series[]; title: string }) {
  const element = useUPlot(
    (U, el) =>
      new U(
        {
          title,
          width: Math.max(320, Math.min(1200, el.clientWidth || 900)),
          height: 320,
          scales: { x: { time: true } },
          series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: chartColor(i), width: 1.5 }))],
          axes: [{ stroke: "var(--muted)" }, { stroke: "var(--muted)" }],
        },
        [times, ...series.map((s) => s.values)] as uPlot.AlignedData,
        el,
      ),
    [times, series, title],
  );
  return <div ref={element} role="img" aria-label={title} style={{ width: "100%" }} />;
}

/** The scheduler's last decision: each point of the Pareto front on two chosen objectives, the chosen one marked. */
export function FrontPlot({ points, chosen, x, y }: { points: number[][]; chosen: number[] | undefined; x: number; y: number }) {
  const width = 420;
  const height = 260;
  const xs = points.map((p) => p[x] ?? 0);
  const ys = points.map((p) => p[y] ?? 0);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (v: number) => 30 + ((v - minX) / (maxX - minX || 1)) * (width - 50);
  const sy = (v: number) => height - 25 - ((v - minY) / (maxY - minY || 1)) * (height - 45);
  return (
    <svg width={width} height={height} role="img" aria-label={`Pareto front: ${points.length} points`}>
      <rect x="0" y="0" width={width} height={height} fill="none" stroke="var(--border)" />
      {points.map((p, i) => (
        <circle key={i} cx={sx(p[x] ?? 0)} cy={sy(p[y] ?? 0)} r="3" fill="var(--muted)" />
      ))}
      {chosen && <circle cx={sx(chosen[x] ?? 0)} cy={sy(chosen[y] ?? 0)} r="6" fill="none" stroke="var(--accent)" strokeWidth="2.5" />}
    </svg>
  );
}
