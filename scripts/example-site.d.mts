/** See example-site.mjs. */
export function serveExample(options: {
  port: number;
  host?: string;
  embedUrl: string;
  /** One relay multiaddr, or several separated by spaces. */
  relay: string;
}): Promise<{ url: string; close(): Promise<void> }>;
