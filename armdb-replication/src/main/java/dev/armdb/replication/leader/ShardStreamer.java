package dev.armdb.replication.leader;

import dev.armdb.changes.FeedCursor;
import dev.armdb.changes.ShardView;
import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.protocol.CaughtUp;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ProtocolException;
import dev.armdb.replication.protocol.ShardInfo.CatchUpMode;
import dev.armdb.replication.protocol.SlotBatchLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a leader sends one follower for one shard after the handshake, as a state machine with no thread, socket or
 * clock inside: a catch-up (a scan of the slots newer than the follower's position, or nothing when the change feed
 * still covers it) ending in CAUGHT_UP, then the live stream from the change feed, falling back to a partial scan
 * when the follower is lapped. Each {@link #doWork} call sends at most one batch through a {@link FrameOut};
 * {@link FollowerSession} drives it over a socket, the deterministic simulation over a simulated network.
 *
 * <p>Design note: the cursor is registered ({@link #open}) before the slot count is read and before any slot is
 * looked at, so every mutation after that point reaches the follower through the feed; a scan only covers what
 * happened before. A scan sends every slot newer than the follower's position, superseded copies too: the
 * follower's copy of that slot may hold an older key whose tombstone the slot has since been reused for.
 *
 * <p>Threading: one driver thread calls everything but the status getters (any thread); a {@link
 * ReplicationWorkers} worker calls {@link #onAck} on its own thread, between {@link #doWork} calls.
 */
final class ShardStreamer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ShardStreamer.class);
    /** At most this many slots are read by one {@link #doWork} call of a scan, so one call stays short. */
    private static final int SCAN_SLOTS_PER_CALL = 4096;

    /** What a {@link #doWork} call did. */
    enum Work {
        /** Nothing to send: wait for the feed (at most {@link #nanosUntilHeartbeat}). */
        IDLE,
        /** Something was sent or scanned: call again. */
        WORKED,
        /** A batch is ready but the follower has not acknowledged enough: wait for an ack. */
        WINDOW_FULL
    }

    /** Where the stream is. */
    enum Phase {
        /** Sending the catch-up, up to CAUGHT_UP. */
        CATCHING_UP,
        /** Sending what the change feed publishes. */
        STREAMING
    }

    /** Where frames go. */
    interface FrameOut {
        /** Sends a SLOT_BATCH frame whose payload is {@code buf[0, length)}. */
        void batch(byte[] buf, int length) throws IOException;

        /** Sends CAUGHT_UP. */
        void caughtUp(CaughtUp c) throws IOException;

        /** Sends a HEARTBEAT naming the leader's LSN. */
        void heartbeat(long leaderLsn, long nowNs) throws IOException;
    }

    private final ShardView view;
    private final ReplicationMetrics metrics;
    private final int window;
    private final long heartbeatNanos;
    private final int slotSize;
    private final int maxEntries;
    private final byte[] batch;
    private final ByteBuffer batchView;
    /** The slots one {@link #streamStep} polled from the feed. */
    private final int[] polled;
    /** Where {@link ShardView#touchSlots} results land; never read. */
    private long touchSink;

    private volatile Phase phase = Phase.CATCHING_UP;
    private volatile long highestSentLsn;
    private volatile long ackedLsn;
    private volatile long ackedSeq;

    private FeedCursor cursor;
    private int entries;
    private int batchPos = SlotBatchLayout.HEADER_SIZE;
    /** The up-to LSN of the batch in {@link #batch} once it is sealed for sending; -1 while it is being filled. */
    private long sealedUpTo = -1;

    private long seq;
    private long sentUpTo;
    private long lastSendNanos;
    private int scanSlot;
    private int scanCount;
    private long scanFrom;
    private long scanUpTo;
    private long scanned;
    private long scanSent;
    private boolean scanCounted;

    ShardStreamer(ShardView view, ReplicationMetrics metrics, int batchBytes, int window, long heartbeatNanos) {
        this.view = view;
        this.metrics = metrics;
        this.window = window;
        this.heartbeatNanos = heartbeatNanos;
        this.slotSize = view.slotSize();
        this.maxEntries = SlotBatchLayout.maxEntries(slotSize, batchBytes);
        this.batch = new byte[SlotBatchLayout.HEADER_SIZE + maxEntries * SlotBatchLayout.entrySize(slotSize)];
        this.batchView = ByteBuffer.wrap(batch).order(ByteOrder.LITTLE_ENDIAN);
        this.polled = new int[maxEntries];
    }

    /**
     * The catch-up a follower asking to continue after {@code fromLsn} needs.
     *
     * @param inherited the follower follows the leader this node was promoted from and holds nothing newer than what
     *     this node had applied from it (a prefix of this node's history)
     * @param sameDb the follower follows this database
     * @param untrusted the follower's position was synced under an epoch this leader cannot vouch for (it may hold
     *     writes the leader lost in an unclean stop)
     */
    static CatchUpMode choose(
            boolean inherited, boolean sameDb, boolean untrusted, long fromLsn, long leaderLsn, boolean feedCovers) {
        if (inherited) {
            return CatchUpMode.PARTIAL_SCAN;
        }
        if (fromLsn > 0 && (!sameDb || fromLsn > leaderLsn || untrusted)) {
            return CatchUpMode.FULL;
        }
        if (fromLsn > 0 && feedCovers) {
            return CatchUpMode.BACKLOG;
        }
        return CatchUpMode.PARTIAL_SCAN;
    }

    /**
     * Registers the feed cursor for {@code mode}: after {@code fromLsn} for a backlog catch-up, else after the
     * shard's last LSN. Call before reading the slot count announced in SHARD_INFO.
     *
     * @return the mode to announce: a backlog the feed no longer covers once registered becomes a partial scan
     */
    CatchUpMode open(CatchUpMode mode, long fromLsn) {
        if (mode == CatchUpMode.BACKLOG) {
            cursor = view.feed().openCursor(fromLsn);
            if (view.feed().covers(fromLsn)) {
                return mode;
            }
            cursor.close();
        }
        cursor = view.feed().openCursor(view.lastLsn());
        return mode == CatchUpMode.BACKLOG ? CatchUpMode.PARTIAL_SCAN : mode;
    }

    /**
     * Starts the catch-up announced in SHARD_INFO: a backlog sends CAUGHT_UP at once; a scan covers the first {@code
     * slotCount} slots (the count announced), each if newer than the follower's position.
     */
    void start(CatchUpMode mode, long fromLsn, int slotCount, long nowNs) {
        long from = mode == CatchUpMode.FULL ? 0 : fromLsn;
        sentUpTo = from;
        // a follower may acknowledge what it holds (its from-LSN) before anything arrives; a FULL copy starts from
        // nothing, whatever LSN the follower announced
        highestSentLsn = from;
        lastSendNanos = nowNs;
        switch (mode) {
            case BACKLOG -> metrics.resyncsBacklog.increment();
            case FULL -> metrics.resyncsFull.increment();
            case PARTIAL_SCAN -> {
                if (from > 0) {
                    metrics.resyncsPartial.increment();
                }
            }
        }
        boolean backlog = mode == CatchUpMode.BACKLOG;
        beginScan(from, backlog ? from : cursor.nextLsn() - 1, backlog ? 0 : slotCount);
    }

    private void beginScan(long from, long upTo, int count) {
        scanFrom = from;
        scanUpTo = upTo;
        scanCount = count;
        scanSlot = 0;
        scanned = 0;
        scanSent = 0;
        scanCounted = false;
        phase = Phase.CATCHING_UP;
    }

    /** Sends what is due now: at most one batch, or a CAUGHT_UP, or a heartbeat. */
    Work doWork(long nowNs, FrameOut out) throws IOException {
        if (sealedUpTo >= 0) {
            return sendSealed(nowNs, out) ? Work.WORKED : Work.WINDOW_FULL;
        }
        return phase == Phase.CATCHING_UP ? scanStep(nowNs, out) : streamStep(nowNs, out);
    }

    private Work scanStep(long nowNs, FrameOut out) throws IOException {
        int end = (int) Math.min(scanCount, (long) scanSlot + SCAN_SLOTS_PER_CALL);
        while (entries < maxEntries && scanSlot < end) {
            int slot = scanSlot++;
            int at = batchPos + SlotBatchLayout.ENTRY_HEADER_SIZE;
            long lsn = view.readSlotImage(slot, batch, at);
            scanned++;
            if (lsn > scanFrom) {
                append(slot);
                scanSent++;
            }
        }
        boolean done = scanSlot == scanCount;
        if (done && !scanCounted) {
            // counted before the last batch leaves, so a follower that has applied it never sees a stale count
            metrics.catchupSlotsScanned.add(scanned);
            metrics.catchupSlotsSent.add(scanSent);
            scanCounted = true;
        }
        if (entries == maxEntries || (done && entries > 0)) {
            return seal(scanFrom, nowNs, out);
        }
        if (!done) {
            return Work.WORKED;
        }
        sentUpTo = scanUpTo;
        // volatile write before the send: the follower's ack of it may be read before the send returns
        highestSentLsn = Math.max(highestSentLsn, scanUpTo);
        out.caughtUp(new CaughtUp(scanned, scanSent, scanUpTo));
        lastSendNanos = nowNs;
        phase = Phase.STREAMING;
        return Work.WORKED;
    }

    /**
     * Sends what the feed published since the last call, as one batch.
     *
     * <p>Design note: the feed's slots are polled first and {@link ShardView#touchSlots touched} together before any
     * image is read. The slots are where the writers' keys hashed, scattered over the file, and each was just written
     * on another core: read one after another, each image waited for its own cache and TLB misses (measured through
     * {@code serve} under SET -P 16 with one follower, 2 cores, a million keys: four tenths of this worker's time).
     * Touched together, the misses overlap; the worker's CPU per streamed write fell by about 7% there (medians of
     * three paired runs). Reading the images later than before is safe: an image is the slot's current one whenever
     * it is read.
     */
    private Work streamStep(long nowNs, FrameOut out) throws IOException {
        int polledCount = 0;
        boolean lapped = false;
        for (int room = maxEntries - entries; polledCount < room; ) {
            int slot = cursor.poll();
            if (slot == FeedCursor.LAPPED) {
                lapped = true;
                break;
            }
            if (slot < 0) {
                break;
            }
            polled[polledCount++] = slot;
        }
        touchSink += view.touchSlots(polled, polledCount);
        int sent = 0;
        for (int i = 0; i < polledCount; i++) {
            int slot = polled[i];
            int at = batchPos + SlotBatchLayout.ENTRY_HEADER_SIZE;
            if (view.readSlotImage(slot, batch, at) > 0) {
                append(slot);
                sent++;
            }
        }
        metrics.streamingEventsSent.add(sent);
        if (lapped) {
            return lapped(nowNs, out);
        }
        long upTo = cursor.nextLsn() - 1;
        if (entries > 0 || upTo > sentUpTo) {
            return seal(upTo, nowNs, out);
        }
        if (nowNs - lastSendNanos >= heartbeatNanos) {
            out.heartbeat(view.lastLsn(), nowNs);
            lastSendNanos = nowNs;
            return Work.WORKED;
        }
        return Work.IDLE;
    }

    /**
     * The feed overwrote entries this follower had not read: scan what changed since the last LSN sent. The leader
     * LSN read after the slot count bounds every slot id sent from here on (the pending entries and the scan), so a
     * heartbeat carrying it goes first.
     */
    private Work lapped(long nowNs, FrameOut out) throws IOException {
        LOG.info("follower lapped on shard {}; partial scan from LSN {}", view.shardId(), sentUpTo);
        long from = sentUpTo;
        cursor.resetAfter(view.lastLsn());
        int count = view.slotCount();
        out.heartbeat(view.lastLsn(), nowNs);
        metrics.resyncsPartial.increment();
        beginScan(from, cursor.nextLsn() - 1, count);
        if (entries > 0) {
            return seal(from, nowNs, out);
        }
        return Work.WORKED;
    }

    private void append(int slot) {
        batchView.putInt(batchPos, slot);
        batchPos += SlotBatchLayout.entrySize(slotSize);
        entries++;
    }

    private Work seal(long upTo, long nowNs, FrameOut out) throws IOException {
        sealedUpTo = upTo;
        return sendSealed(nowNs, out) ? Work.WORKED : Work.WINDOW_FULL;
    }

    private boolean sendSealed(long nowNs, FrameOut out) throws IOException {
        if (windowFull()) {
            return false;
        }
        long upTo = sealedUpTo;
        seq++;
        batchView.putLong(SlotBatchLayout.SEQ_OFFSET, seq);
        batchView.putLong(SlotBatchLayout.UP_TO_LSN_OFFSET, upTo);
        batchView.putInt(SlotBatchLayout.COUNT_OFFSET, entries);
        // volatile write before the send: the follower's ack of it may be read before the send returns
        highestSentLsn = Math.max(highestSentLsn, upTo);
        out.batch(batch, batchPos);
        sentUpTo = Math.max(sentUpTo, upTo);
        lastSendNanos = nowNs;
        entries = 0;
        batchPos = SlotBatchLayout.HEADER_SIZE;
        sealedUpTo = -1;
        return true;
    }

    /** True while as many batches as the window allows are unacknowledged. */
    boolean windowFull() {
        return seq - ackedSeq >= window;
    }

    /** True while at least half the window's batches are unacknowledged, as far as the acks read so far tell. */
    boolean windowHalfFull() {
        return 2 * (seq - ackedSeq) >= window;
    }

    /**
     * Takes the follower's ACK. Driver thread.
     *
     * @throws ProtocolException if it acknowledges an LSN above the highest this session sent
     */
    void onAck(long appliedLsn, long batchSeq) {
        long bound = highestSentLsn;
        if (appliedLsn > bound) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED,
                    "ACK of LSN " + appliedLsn + " is above the highest LSN sent on this session, " + bound);
        }
        if (appliedLsn > ackedLsn) {
            ackedLsn = appliedLsn;
        }
        if (batchSeq > ackedSeq) {
            ackedSeq = batchSeq;
        }
    }

    /** How long the driver may wait for the feed before a heartbeat is due. */
    long nanosUntilHeartbeat(long nowNs) {
        return Math.max(0, heartbeatNanos - (nowNs - lastSendNanos));
    }

    /** Bytes of the largest SLOT_BATCH payload this streamer sends. */
    int largestBatch() {
        return batch.length;
    }

    /** The feed cursor, for the driver to wait on; null before {@link #open}. */
    FeedCursor cursor() {
        return cursor;
    }

    /** The stream's phase. Any thread. */
    Phase phase() {
        return phase;
    }

    /** The highest LSN the follower acknowledged. Any thread. */
    long ackedLsn() {
        return ackedLsn;
    }

    /** Unregisters the feed cursor. */
    @Override
    public void close() {
        if (cursor != null) {
            cursor.close();
        }
    }
}
