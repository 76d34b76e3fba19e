/** The runbook's #us-launch-ops posts, in its format. Times are shown in EST, as the runbook writes them. */
export function rollbackPost(
  kind: 'initiated' | 'complete',
  p: { at: Date; reason: string; from: string; to: string; digest?: string },
): string {
  const est = new Intl.DateTimeFormat('en-US', {
    timeZone: 'America/New_York',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(p.at);
  // Through a registry, the digest is what every node runs: the one name of the build nobody can re-point.
  const image = p.digest ? `Image: ${p.digest}\n` : '';
  if (kind === 'initiated') {
    return `⚠️ ROLLBACK INITIATED — ${est} EST\nReason: ${p.reason}\nLead: Bolt\nETA: ~5 min (from ${p.from} to ${p.to})\n${image}`;
  }
  return `✅ ROLLBACK COMPLETE — ${est} EST\nReason: ${p.reason}\nLead: Bolt\nNow running: ${p.to} (was ${p.from}). Verification: smoke 1–5 and the section 6 checklist passed.\n${image}`;
}
