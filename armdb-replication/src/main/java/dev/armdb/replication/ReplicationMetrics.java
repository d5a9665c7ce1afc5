package dev.armdb.replication;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Plain counters of a replication server or client, named after the system ({@code armdb.replication.*}); the
 * Micrometer binder reads them. Thread-safe: any thread may add, any thread may read.
 */
public final class ReplicationMetrics {
    /** Slots read by catch-up scans. */
    public final LongAdder catchupSlotsScanned = new LongAdder();
    /** Slot images sent by catch-up scans. */
    public final LongAdder catchupSlotsSent = new LongAdder();
    /** Slot images sent while streaming (from the change feed). */
    public final LongAdder streamingEventsSent = new LongAdder();
    /** Slot images applied (follower). */
    public final LongAdder slotsApplied = new LongAdder();
    /** Bytes sent, frame headers included. */
    public final LongAdder bytesSent = new LongAdder();
    /** Bytes received, frame headers included. */
    public final LongAdder bytesReceived = new LongAdder();
    /** Sessions caught up from the change feed alone, with no scan. */
    public final LongAdder resyncsBacklog = new LongAdder();
    /** Sessions (or lapped streams) caught up by scanning slots newer than the follower's LSN. */
    public final LongAdder resyncsPartial = new LongAdder();
    /** Sessions that made the follower wipe its shard and copy everything. */
    public final LongAdder resyncsFull = new LongAdder();
    /** Sessions ended by a protocol error (bad frame, refused handshake). */
    public final LongAdder protocolErrors = new LongAdder();
    /** Handshakes refused because a peer's proof did not match the replication secret (also protocol errors). */
    public final LongAdder authFailures = new LongAdder();
    /** Connections closed on accept because too many handshakes were in progress (in all or from their source). */
    public final LongAdder connectionsRefused = new LongAdder();
    /** Handshakes answered with a transient error because the leader served its maximum of sessions. */
    public final LongAdder sessionsRefused = new LongAdder();
    /**
     * Sessions ended over STALE_TERM: on a follower, leaders it refused because their term was lower than the highest
     * it had seen; on a leader, followers that refused it so (it had been replaced: a zombie).
     */
    public final LongAdder staleTerm = new LongAdder();

    /** Every counter by its metric name, for export. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("armdb.replication.catchup_slots_scanned", catchupSlotsScanned.sum());
        m.put("armdb.replication.catchup_slots_sent", catchupSlotsSent.sum());
        m.put("armdb.replication.streaming_events_sent", streamingEventsSent.sum());
        m.put("armdb.replication.slots_applied", slotsApplied.sum());
        m.put("armdb.replication.bytes_sent", bytesSent.sum());
        m.put("armdb.replication.bytes_received", bytesReceived.sum());
        m.put("armdb.replication.resyncs_backlog", resyncsBacklog.sum());
        m.put("armdb.replication.resyncs_partial", resyncsPartial.sum());
        m.put("armdb.replication.resyncs_full", resyncsFull.sum());
        m.put("armdb.replication.protocol_errors", protocolErrors.sum());
        m.put("armdb.replication.auth_failures", authFailures.sum());
        m.put("armdb.replication.connections_refused", connectionsRefused.sum());
        m.put("armdb.replication.sessions_refused", sessionsRefused.sum());
        m.put("armdb.replication.stale_term", staleTerm.sum());
        return m;
    }
}
