import type { InstanceEvents } from "../instance/events";
import { isoTime } from "../clock";


/**
 * GET /admin/events: what is in effect and what is still to come, every time as an ISO 8601 date,
 * as POST /admin/events/<event> answers (the metadata tree shows them in EC2's own formats).
 */
export function eventsDocument(events: InstanceEvents) {
  return {
    spot: events.spot === undefined ? undefined : { action: events.spot.action, time: isoTime(events.spot.time) },
    rebalanceNoticeTime: isoTime(events.rebalanceNoticeTime),
    scheduledMaintenance: events.scheduledMaintenance.map((event) => ({ ...event, notBefore: isoTime(event.notBefore), notAfter: isoTime(event.notAfter) })),
    targetLifecycleState: events.targetLifecycleState,
    pending: events.pending.map(({ request, at }) => ({
      ...request,
      ...("notBefore" in request && request.notBefore !== undefined ? { notBefore: isoTime(request.notBefore) } : {}),
      at: isoTime(at),
    })),
  };
}
