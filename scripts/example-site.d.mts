/** See example-site.mjs. */
export function serveExample(options: {
  port: number;
  host?: string;
  embedUrl: string;
  relay: string;
}): Promise<{ url: string; close(): Promise<void> }>;
