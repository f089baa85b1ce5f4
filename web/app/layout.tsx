import "./globals.css";
import "uplot/dist/uPlot.min.css";
import type { Metadata } from "next";
import { PlatformProvider } from "@/components/PlatformContext";
import { Shell } from "@/components/Shell";
import { gatewayAddress } from "@/lib/gatewayAddress";

// Rendered per request: the gateway's address is read from the environment the AppHost sets, not baked into the build.
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "Fog platform", description: "The fog-compute platform's control panel" };

// Sets the theme before the first paint (the stored choice, else the system's), so a dark page never flashes white.
const themeScript = `try{var t=localStorage.getItem("platform.theme")||(matchMedia("(prefers-color-scheme: dark)").matches?"dark":"light");document.documentElement.dataset.theme=t}catch(e){}`;

export default function RootLayout({ children }: { children: React.ReactNode }) {
  const gateway = gatewayAddress();
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: themeScript }} />
      </head>
      <body>
        <PlatformProvider gateway={gateway}>
          <Shell>{children}</Shell>
        </PlatformProvider>
      </body>
    </html>
  );
}
