package dev.armdb.simulation;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.index.KeyHash;
import dev.armdb.replication.ReplicationSecret;
import dev.armdb.replication.follower.ReplicaLineage;
import dev.armdb.replication.follower.SimFollowerShard;
import dev.armdb.replication.leader.SimLeaderStream;
import dev.armdb.replication.net.FrameReader;
import dev.armdb.replication.net.FrameWriter;
import dev.armdb.replication.net.SimTransport;
import dev.armdb.replication.protocol.Ack;
import dev.armdb.replication.protocol.CaughtUp;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.Heartbeat;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.ShardInfo;
import dev.armdb.replication.protocol.ShardInfo.CatchUpMode;
import dev.armdb.replication.protocol.SlotBatchLayout;
import dev.armdb.store.DbMeta;
import dev.armdb.store.Shard;
import dev.armdb.store.SimShardDisk;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * One seeded run of the replication simulation: a leader shard and {@value #FOLLOWERS} followers, one thread, a fake
 * clock. Each step does one random thing: a leader write (put, delete, compare-and-set, put-if-absent over {@value
 * #KEYS} keys, so slots are reused all the time), a leader group force (which releases superseded slots), a streamer
 * step, a delivery either way (with delays), a quiet tick, a link cut (bytes in flight and a partly received frame
 * lost, a new handshake later), a stalled follower, or a follower crash (a process crash keeps the page cache, a power
 * loss keeps only forced sectors, torn at 512 bytes). Sizes vary per seed: durability modes, feed capacity (laps force
 * partial scans), batch size and window.
 *
 * <p>The network carries bytes, not messages: the leader's frames are encoded by the real {@code StreamFrames} into a
 * real {@code FrameWriter}, the follower's ACKs into one as {@code LeaderSession} encodes them (SHARD_INFO, which the
 * leader's blocking handshake sends, by its own encoder behind a {@code FrameLayout} header), and each delivery hands
 * the receiver what has arrived cut at a seeded point (often all of it, often anywhere, sometimes within a header's
 * length), so frames arrive split over deliveries and several to a delivery. Each end reads them through a simulated
 * transport ({@code SimTransport}) with the real {@code FrameReader}, configured as the real sessions configure theirs
 * ({@code LeaderSession}'s on the follower, {@code PooledStream}'s on the leader), and takes each whole frame as those
 * sessions do.
 *
 * <p>Checked after every step where it applies:
 *
 * <ul>
 *   <li>whenever a follower records or acknowledges LSN X, its contents equal the leader's contents at one LSN Y &ge;
 *       X (the invariant of docs/protocol.md);
 *   <li>after a follower's crash, what it had acknowledged is still recorded (unless its durability is NONE and the
 *       crash a power loss, which NONE does not survive: that case is not run), and if it reopens at a consistent
 *       point its contents equal a leader state at or after it;
 *   <li>the leader never receives an ACK above what its session sent (a protocol error ends the run);
 *   <li>at the end, with writes stopped and links healed, every follower converges to the leader's contents within a
 *       bounded number of steps.
 * </ul>
 *
 * <p>Threading: one thread per run.
 */
final class SimWorld {
    static final int KEYS = 4;
    static final int FOLLOWERS = 2;
    private static final int KEY = 8;
    private static final int VALUE = 24;
    private static final long HEARTBEAT_NANOS = 5_000_000;
    private static final int CONVERGE_ROUNDS = 20_000;

    private final long seed;
    private final Random rnd;
    /** Draws only whether a cut session lingers on the leader, so the rest of a seed's run stays as it was. */
    private final Random lingerRnd;

    private final List<String> trace = new ArrayList<>();
    private final FixedConfig leaderCfg;
    private final FixedConfig followerCfg;
    /**
     * The leader histories by database and epoch: a process crash or clean restart carries a history into the new
     * epoch, a power loss starts another (what a follower holds is checked against the epoch it recorded).
     */
    private final Map<String, History> histories = new HashMap<>();

    private Leader leader;
    /** The leader before the last promotion, still running and writing (cut off, not dead): it must be fenced. */
    private Leader zombie;

    private long nextEpoch = 1;
    private int promotions;
    private final Node[] nodes = new Node[FOLLOWERS];
    private final int batchBytes;
    private final int window;
    private final Map<String, Integer> events = new java.util.TreeMap<>();
    private long now;
    private int step;
    private long nextValue = 1;

    SimWorld(long seed) {
        this.seed = seed;
        this.rnd = new Random(seed);
        this.lingerRnd = new Random(~seed);
        Durability[] modes = Durability.values();
        int feed = 16 << rnd.nextInt(3);
        this.leaderCfg = config(modes[rnd.nextInt(modes.length)], feed, 1);
        this.followerCfg = config(modes[rnd.nextInt(modes.length)], 16, 1 + rnd.nextInt(5));
        DbMeta meta = DbMeta.create(leaderCfg);
        SimShardDisk disk = new SimShardDisk();
        this.leader = new Leader(disk, disk.open(meta, leaderCfg, false), meta, leaderCfg, null, new History());
        this.batchBytes =
                SlotBatchLayout.HEADER_SIZE + (1 + rnd.nextInt(6)) * SlotBatchLayout.entrySize(meta.slotSize());
        this.window = 1 + rnd.nextInt(4);
        for (int i = 0; i < FOLLOWERS; i++) {
            nodes[i] = new Node(i);
        }
        log("leader " + leaderCfg.durability() + " feed " + feed + ", followers " + followerCfg.durability()
                + " group " + followerCfg.groupInterval().toMillis() + " ms, batch bytes " + batchBytes + ", window "
                + window);
    }

    private static FixedConfig config(Durability d, int feed, int groupMillis) {
        return FixedConfig.builder()
                .keySize(KEY)
                .valueSize(VALUE)
                .shards(1)
                .durability(d)
                .groupInterval(Duration.ofMillis(groupMillis))
                .growthStepBytes(4096)
                .maxSlotsPerShard(1 << 14)
                .changeFeedCapacity(feed)
                .logCheckpointBytes(2048)
                .build();
    }

    /** How often each kind of event happened in this run (for the totals). */
    Map<String, Integer> events() {
        return events;
    }

    private void count(String event) {
        events.merge(event, 1, Integer::sum);
    }

    /** Steps run (for the totals). */
    int steps() {
        return step;
    }

    /** Runs the seed; returns null if every check held, else the failure with the seed and the trace. */
    String run() {
        int steps = 100 + rnd.nextInt(300);
        try {
            for (step = 1; step <= steps; step++) {
                now += rnd.nextInt(500_000);
                randomStep();
            }
            converge();
            return null;
        } catch (RuntimeException | java.io.IOException e) {
            StringBuilder b = new StringBuilder();
            b.append("seed ")
                    .append(seed)
                    .append(" failed at step ")
                    .append(step)
                    .append(": ")
                    .append(e);
            b.append("\nre-run: -Darmdb.seed=").append(seed).append(" -Darmdb.sim.seeds=1\ntrace:");
            for (String t : trace) {
                b.append("\n  ").append(t);
            }
            if (!(e instanceof Failure)) {
                b.append("\n").append(stackOf(e));
            }
            return b.toString();
        } finally {
            SimShardDisk.abandon(leader.shard);
            if (zombie != null) {
                SimShardDisk.abandon(zombie.shard);
            }
            for (Node n : nodes) {
                SimShardDisk.abandon(n.f.shard());
            }
        }
    }

    private static String stackOf(Throwable e) {
        java.io.StringWriter w = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }

    private void randomStep() throws java.io.IOException {
        expireLingering(leader);
        if (zombie != null) {
            expireLingering(zombie);
        }
        for (Node n : nodes) {
            if (n.link == null && step >= n.reconnectAt) {
                connect(n);
            }
        }
        // what each node's checkpointer does once a redo log passes its checkpoint size
        SimShardDisk.checkpointIfDue(leader.shard);
        for (Node n : nodes) {
            if (n.f != null && n.f.shard() != null) {
                SimShardDisk.checkpointIfDue(n.f.shard());
            }
        }
        int r = rnd.nextInt(100);
        Node n = nodes[rnd.nextInt(FOLLOWERS)];
        if (r < 30) {
            leaderWrite(zombie != null && rnd.nextInt(3) == 0 ? zombie : leader);
        } else if (r < 33) {
            SimShardDisk.groupForce(leader.shard);
            recordLeader(leader, "group force");
        } else if (r < 34) {
            // the follower collection's own group commit, which GROUP followers wait for before they acknowledge
            SimShardDisk.groupForce(n.f.shard());
            log("f" + n.id + " group force");
        } else if (r < 36) {
            // the follower's background force of replica.state: GROUP acknowledges a recorded LSN only after it
            if (n.f.forceRecordInBackground()) {
                log("f" + n.id + " background force of the record");
            }
        } else if (r < 55) {
            leaderWork(n, 1 + rnd.nextInt(3));
        } else if (r < 78) {
            deliverDown(n);
        } else if (r < 88) {
            deliverUp(n);
        } else if (r < 92) {
            quiet(n);
        } else if (r < 94) {
            cut(n, "link cut");
        } else if (r < 96) {
            now += 20_000_000;
            log("clock +20 ms (everyone stalls)");
        } else if (r < 97) {
            boolean powerLoss = followerCfg.durability() != Durability.NONE && rnd.nextBoolean();
            crash(n, powerLoss);
        } else if (r < 98 && promotions < 2) {
            promote(n);
        } else if (r < 99) {
            restartLeader(Stop.values()[rnd.nextInt(Stop.values().length)]);
        }
    }

    /**
     * Fails the leader over to follower {@code n}, as {@code ReplicationClient.promote} does: its lineage as recorded
     * before the stop, a clean stop, refused between consistent points or with an incomplete copy. The old leader is
     * gone; the other follower re-points at the new one (resuming if its lineage allows, else copying); a fresh
     * follower takes the promoted one's place.
     */
    private void promote(Node n) {
        cut(n, "stops to be promoted");
        ReplicaLineage lineage = n.f.lineage(nextEpoch);
        boolean consistent = n.f.settleOnStop();
        long x = n.f.records().applied();
        if (!consistent || n.f.records().copyMark()) {
            count("promotions refused");
            log("f" + n.id + " promotion refused (consistent " + consistent + ", copy mark "
                    + n.f.records().copyMark() + ")");
            return;
        }
        long[] content = read(n.f.shard());
        History from;
        if (x > 0) {
            check(n, x, "promotion");
            from = historyOf(n);
        } else if (Arrays.stream(content).allMatch(v -> v == 0)) {
            from = new History();
        } else {
            throw new Failure("f" + n.id + " promoted with nothing recorded while holding " + Arrays.toString(content));
        }
        n.f.shard().promote();
        n.f.shard().refuseUserWrites(false);
        long lastLsn = n.f.shard().lastLsn();
        if (lastLsn < x) {
            throw new Failure("f" + n.id + " promoted at LSN " + lastLsn + ", below its recorded LSN " + x
                    + ": its next writes would reuse LSNs its followers hold");
        }
        for (Node other : nodes) {
            cut(other, "leader cut off");
        }
        if (zombie != null) {
            SimShardDisk.abandon(zombie.shard);
        }
        // the old leader lives on, cut off, still taking writes: the term must keep followers away from it
        zombie = leader;
        long term = n.f.records().term() + 1;
        n.f.records().term(term);
        leader = new Leader(n.disk, n.f.shard(), n.meta, followerCfg, lineage, from.rebase(x, content, lastLsn));
        leader.term = term;
        promotions++;
        count("promotions");
        log("f" + n.id + " promoted at LSN " + x + " holding " + Arrays.toString(content) + "; new leader LSN "
                + lastLsn + ", epoch " + leader.epoch + ", term " + term + "; a fresh follower takes its place");
        nodes[n.id] = new Node(n.id);
    }

    /** How a leader restart began. */
    private enum Stop {
        CLEAN,
        PROCESS_CRASH,
        POWER_LOSS
    }

    /**
     * Restarts the leader: after a clean stop or a process crash the page cache kept every write, so it still trusts
     * the positions its followers synced under earlier epochs (its open may release slots: new LSNs). After a power
     * loss it holds what its durability mode kept, perhaps older than what followers acknowledged and perhaps no
     * state it ever had under GROUP (unforced sectors each kept old or new): it trusts no earlier epoch, so every
     * follower copies afresh, and its history goes on from what it holds.
     */
    private void restartLeader(Stop stop) {
        for (Node other : nodes) {
            cut(other, "leader restarts");
        }
        for (Link s : List.copyOf(leader.sessions)) {
            closeSession(s);
        }
        if (stop == Stop.CLEAN) {
            leader.shard.flush();
        }
        SimShardDisk.abandon(leader.shard);
        leader.disk = stop == Stop.POWER_LOSS ? leader.disk.powerLoss(rnd) : leader.disk.processCrash();
        leader.shard = leader.disk.open(leader.meta, leader.cfg, false);
        leader.epoch = nextEpoch++;
        if (stop == Stop.POWER_LOSS) {
            long lastLsn = leader.shard.lastLsn();
            leader.history = History.startingAt(lastLsn, read(leader.shard));
            leader.trusted.clear();
            leader.acked.clear();
        }
        leader.trusted.add(leader.epoch);
        register(leader);
        count(
                switch (stop) {
                    case CLEAN -> "leader clean restarts";
                    case PROCESS_CRASH -> "leader process crashes";
                    case POWER_LOSS -> "leader power losses";
                });
        recordLeader(
                leader, "leader restarted after a " + stop.name().toLowerCase().replace('_', ' '));
    }

    // ------------------------------------------------------------------ leader

    private void leaderWrite(Leader leader) {
        int k = rnd.nextInt(KEYS);
        byte[] key = key(k);
        long hash = KeyHash.hash(key);
        int op = rnd.nextInt(10);
        long id = nextValue++;
        long lsn;
        String what;
        if (op < 5) {
            lsn = leader.shard.put(key, hash, value(id));
            what = "put k" + k + "=v" + id;
        } else if (op < 7) {
            lsn = leader.shard.delete(key, hash);
            what = "delete k" + k;
        } else if (op < 9) {
            long expected = rnd.nextBoolean() ? leader.history.current()[k] : id - 1;
            byte[] exp = expected == 0 ? value(0) : value(expected);
            lsn = leader.shard.compareAndSet(key, hash, exp, value(id));
            what = "cas k" + k + " v" + expected + "->v" + id;
        } else {
            lsn = leader.shard.putIfAbsent(key, hash, value(id));
            what = "putIfAbsent k" + k + "=v" + id;
        }
        recordLeader(leader, (leader == zombie ? "zombie " : "") + what + " (lsn " + lsn + ")");
    }

    private void recordLeader(Leader leader, String what) {
        long last = leader.shard.lastLsn();
        if (last > leader.history.last()) {
            leader.history.advance(last, read(leader.shard));
        }
        log(what + "; leader LSN " + last + " " + Arrays.toString(leader.history.current()));
    }

    private void connect(Node n) {
        connect(n, zombie != null && rnd.nextInt(4) == 0 ? zombie : leader);
    }

    /** Connects {@code n} to {@code leader} (the current one, or a zombie it was misdirected to). */
    private void connect(Node n, Leader leader) {
        long from = n.f.connect();
        byte[] followed = n.f.leaderDatabaseId();
        boolean sameDb = Arrays.equals(followed, leader.meta.databaseId());
        boolean untrusted = !leader.trusted.contains(n.f.leaderEpoch());
        boolean inherited = !sameDb
                && leader.lineage != null
                && leader.trusted.contains(leader.lineage.promotionEpoch())
                && leader.lineage.inherits(0, followed, n.f.leaderEpoch(), from, n.f.heldLsn());
        CatchUpMode chosen = SimLeaderStream.choose(
                inherited,
                sameDb,
                untrusted,
                from,
                leader.shard.lastLsn(),
                leader.shard.feed().covers(from));
        SimLeaderStream s = new SimLeaderStream(
                leader.shard, 0, n.nodeId(), batchBytes, window, HEARTBEAT_NANOS, () -> leader.term);
        CatchUpMode mode = s.open(chosen, from);
        ShardInfo info = new ShardInfo(
                1,
                KEY,
                VALUE,
                leader.meta.slotSize(),
                leader.meta.routing().code(),
                leader.shard.slotCount(),
                leader.meta.databaseId(),
                leader.shard.lastLsn(),
                mode,
                leader.epoch,
                leader.term,
                "",
                0,
                new byte[ReplicationSecret.PROOF_BYTES]);
        // the follower's reader often stages less than a frame, so payloads grow its array and are read into it
        int staging = 16 << rnd.nextInt(6);
        Link link = new Link(
                s,
                leader,
                SimFollowerShard.leaderReader(staging == 512 ? SimFollowerShard.SESSION_STAGING_BYTES : staging));
        leader.sessions.add(link);
        count((leader == zombie ? "zombie " : "") + (inherited ? "inherited " : "") + mode + " handshakes");
        n.link = link;
        ByteBuffer frame =
                ByteBuffer.allocate(FrameLayout.HEADER_SIZE + info.length()).order(ByteOrder.LITTLE_ENDIAN);
        FrameLayout.putHeader(frame, MessageType.SHARD_INFO, info.length());
        info.encode(frame);
        link.down.send(frame.array(), delay());
        s.start(mode, from, info.slotCount(), now);
        log("f" + n.id + " connects to " + (leader == zombie ? "the zombie (term " : "the leader (term ") + leader.term
                + ") from LSN " + from + (inherited ? " (inherited)" : "") + ": " + mode
                + " (leader LSN " + info.leaderLsn() + ", " + info.slotCount() + " slots)");
    }

    private void leaderWork(Node n, int calls) throws java.io.IOException {
        Link link = n.link;
        if (link == null) {
            return;
        }
        for (int i = 0; i < calls; i++) {
            SimLeaderStream.Work w = link.stream.doWork(now, new SimLeaderStream.Sent() {
                @Override
                public void batch(byte[] buf, int length) {
                    ByteBuffer b = ByteBuffer.wrap(buf, 0, length).order(ByteOrder.LITTLE_ENDIAN);
                    log("leader -> f" + n.id + " batch seq " + b.getLong(SlotBatchLayout.SEQ_OFFSET) + " up to "
                            + b.getLong(SlotBatchLayout.UP_TO_LSN_OFFSET) + ", "
                            + b.getInt(SlotBatchLayout.COUNT_OFFSET)
                            + " images " + images(buf));
                }

                @Override
                public void caughtUp(CaughtUp c) {
                    log("leader -> f" + n.id + " CAUGHT_UP " + c.lsn());
                }

                @Override
                public void heartbeat(long leaderLsn) {}
            });
            link.down.send(link.stream.takeSent(), delay());
            if (w != SimLeaderStream.Work.WORKED) {
                return;
            }
        }
    }

    private String images(byte[] payload) {
        ByteBuffer b = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        int count = b.getInt(SlotBatchLayout.COUNT_OFFSET);
        int entry = SlotBatchLayout.entrySize(leader.meta.slotSize());
        StringBuilder s = new StringBuilder("[");
        for (int i = 0, at = SlotBatchLayout.HEADER_SIZE; i < count; i++, at += entry) {
            s.append(i == 0 ? "" : " ").append("slot ").append(b.getInt(at)).append("@");
            s.append(b.getLong(at + SlotBatchLayout.ENTRY_HEADER_SIZE + dev.armdb.store.SlotLayout.LSN_OFFSET));
        }
        return s.append("]").toString();
    }

    private long delay() {
        return now + rnd.nextInt(2_000_000);
    }

    private void deliverUp(Node n) throws java.io.IOException {
        Link link = n.link;
        if (link == null || link.up.isEmpty()) {
            return;
        }
        now = Math.max(now, link.up.firstAt());
        byte[] piece = link.up.take(cut(link.up.arrived(now)));
        link.stream.receive(piece);
        if (link.stream.partialInput()) {
            count("ACK deliveries ending in a frame");
        }
        checkWait(link.to);
    }

    /**
     * Where the network cuts what has arrived: often all of it, else anywhere, sometimes within a few bytes (so
     * inside a frame header), so frames arrive split over deliveries and several to a delivery.
     */
    private int cut(int arrived) {
        int r = rnd.nextInt(10);
        if (r < 2) {
            return 1 + rnd.nextInt(Math.min(arrived, FrameLayout.HEADER_SIZE + 2));
        }
        return r < 5 ? 1 + rnd.nextInt(arrived) : arrived;
    }

    /**
     * What the leader's {@code WAIT} would answer never counts more followers than the distinct nodes that acknowledged
     * the LSN: a node whose old session lingers beside its new one (a reconnect before the old session's peer timeout)
     * counts once.
     */
    private void checkWait(Leader l) {
        java.util.TreeSet<Long> lsns = new java.util.TreeSet<>();
        List<SimLeaderStream> streams = new ArrayList<>();
        for (Link s : l.sessions) {
            streams.add(s.stream);
            if (s.stream.ackedLsn() > 0) {
                lsns.add(s.stream.ackedLsn());
            }
        }
        for (long x : lsns) {
            int counted = SimLeaderStream.countAcked(streams, 0, x);
            long holders = l.acked.values().stream().filter(v -> v >= x).count();
            if (counted > holders) {
                throw new Failure("the leader's WAIT counts " + counted + " followers at LSN " + x + " but only "
                        + holders + " node(s) acknowledged it (acks sent per node: " + l.acked + ", "
                        + l.sessions.size() + " open sessions)");
            }
        }
    }

    // ------------------------------------------------------------------ followers

    /**
     * Delivers to follower {@code n} a piece of what has arrived on its link, cut anywhere: its session's reader (the
     * real {@code LeaderSession} one) reads it from the link's transport, and every whole frame is taken as {@code
     * LeaderSession} takes it; a partial frame waits in the reader for the next delivery (or is lost with the link).
     */
    private void deliverDown(Node n) throws java.io.IOException {
        Link link = n.link;
        if (link == null || link.down.isEmpty()) {
            return;
        }
        now = Math.max(now, link.down.firstAt());
        byte[] piece = link.down.take(cut(link.down.arrived(now)));
        FrameReader in = link.followerIn;
        log("f" + n.id + " receives " + piece.length + " bytes" + (in.inputPending() ? " inside a frame" : ""));
        link.followerNet.deliver(piece);
        int frames = 0;
        // as LeaderSession.receive: every whole frame, then a read; bounded, each read takes a byte or a frame is taken
        for (int reads = 0; reads <= piece.length; reads++) {
            for (MessageType type = in.next(); type != null; type = in.next()) {
                frames++;
                if (!frame(n, link, type, in.payload(), in.payloadArray(), in.inputPending())) {
                    return;
                }
            }
            if (link.followerNet.unread() == 0 || in.fill(link.followerNet) < 0) {
                break;
            }
        }
        if (link.followerNet.unread() > 0) {
            throw new Failure("f" + n.id + "'s reader took no more of a delivery");
        }
        if (frames > 1) {
            count("deliveries of several frames");
        }
        if (in.inputPending()) {
            count(frames == 0 ? "deliveries inside one frame" : "deliveries ending inside a frame");
        }
    }

    /**
     * One whole frame reached follower {@code n}, {@code more} if bytes of another are buffered behind it (the
     * channel's {@code inputPending}); returns false if the follower ended the connection.
     */
    private boolean frame(Node n, Link link, MessageType type, ByteBuffer p, byte[] array, boolean more)
            throws java.io.IOException {
        SimFollowerShard.Acks acks = (lsn, seq) -> ack(n, link, lsn, seq);
        switch (type) {
            case SHARD_INFO -> {
                ShardInfo info = ShardInfo.decode(p);
                log("f" + n.id + " <- SHARD_INFO " + info.mode() + " leader LSN " + info.leaderLsn());
                if (!termAccepted(n, info.term())) {
                    return false;
                }
                byte[] before = n.f.leaderDatabaseId();
                n.f.shardInfo(info, now);
                SimFollowerShard.streaming(link.followerIn);
                link.handshakeDelivered = true;
                if (info.mode() == CatchUpMode.FULL || !Arrays.equals(before, n.f.leaderDatabaseId())) {
                    // a copy from scratch, or another leader's history: what was acknowledged to the old one is
                    // not this follower's to keep
                    n.maxAcked = 0;
                }
            }
            case SLOT_BATCH -> {
                log("f" + n.id + " <- batch seq " + p.getLong(p.position() + SlotBatchLayout.SEQ_OFFSET));
                n.f.batch(p, array, more, now, acks);
            }
            case CAUGHT_UP -> {
                CaughtUp c = CaughtUp.decode(p);
                log("f" + n.id + " <- CAUGHT_UP " + c.lsn());
                n.f.caughtUp(c, now, acks);
            }
            case HEARTBEAT -> {
                Heartbeat h = Heartbeat.decode(p);
                log("f" + n.id + " <- HEARTBEAT " + h.leaderLsn());
                if (!termAccepted(n, h.term())) {
                    return false;
                }
                n.f.heartbeat(h.leaderLsn(), now, acks);
            }
            default -> throw new IllegalStateException("unexpected " + type + " from the leader");
        }
        return true;
    }

    /**
     * The session's term check: a term below the highest the follower has seen is refused (STALE_TERM, the session
     * ends, nothing from it applied); checked here against the model too.
     */
    private boolean termAccepted(Node n, long term) {
        long seen = n.f.records().term();
        try {
            n.f.checkTerm(term);
        } catch (dev.armdb.replication.protocol.ProtocolException e) {
            if (term >= seen) {
                throw new Failure("f" + n.id + " refused term " + term + " having seen only " + seen + ": " + e);
            }
            count("stale-term refusals");
            cut(n, "refuses term " + term + " (STALE_TERM, has seen " + seen + ")");
            return false;
        }
        if (term < seen) {
            throw new Failure("f" + n.id + " accepted term " + term + " after seeing " + seen);
        }
        return true;
    }

    private void quiet(Node n) throws java.io.IOException {
        Link link = n.link;
        if (link == null || !link.handshakeDelivered || link.followerIn.inputPending()) {
            // kept from the blocking reader this once modelled, which waited inside a frame for its end
            return;
        }
        n.f.quiet(now, (lsn, seq) -> ack(n, link, lsn, seq));
    }

    private void ack(Node n, Link link, long lsn, long seq) {
        if (lsn > 0) {
            check(n, lsn, "ACK");
            n.maxAcked = Math.max(n.maxAcked, lsn);
            link.to.acked.merge(n.nodeId(), lsn, Math::max);
        }
        new Ack(lsn, seq).encode(link.followerOut.begin(MessageType.ACK, Ack.LENGTH));
        try {
            link.followerOut.flush(link.followerNet);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        link.up.send(link.followerNet.takeWritten(), delay());
    }

    private void cut(Node n, String why) {
        if (n.link != null) {
            Link l = n.link;
            if (l.followerIn.inputPending()) {
                count("cuts inside a frame");
            }
            if (lingerRnd.nextInt(3) == 0) {
                // the leader has not noticed yet: the session lives on, holding what was acknowledged on it
                l.lingerUntil = step + 1 + lingerRnd.nextInt(30);
                count("sessions left lingering");
            } else {
                closeSession(l);
            }
            n.link = null;
            n.reconnectAt = step + rnd.nextInt(20);
            log("f" + n.id + ": " + why);
        }
    }

    private void closeSession(Link l) {
        l.stream.close();
        l.to.sessions.remove(l);
    }

    private void expireLingering(Leader l) {
        for (Link s : List.copyOf(l.sessions)) {
            if (s.lingerUntil >= 0 && step >= s.lingerUntil) {
                closeSession(s);
            }
        }
    }

    private void crash(Node n, boolean powerLoss) {
        cut(n, powerLoss ? "power loss" : "process crash");
        count(powerLoss ? "follower power losses" : "follower process crashes");
        SimShardDisk.abandon(n.f.shard());
        SimFollowerShard.Records records = n.f.records().afterCrash(powerLoss);
        n.disk = powerLoss ? n.disk.powerLoss(rnd) : n.disk.processCrash();
        n.open(records);
        log("f" + n.id + " reopened: recorded LSN " + records.applied() + ", copy mark " + records.copyMark()
                + ", newest image " + n.f.shard().lastLsn() + " " + Arrays.toString(read(n.f.shard())));
        if (records.copyMark()) {
            n.maxAcked = 0;
            return;
        }
        if (records.applied() < n.maxAcked) {
            throw new Failure("f" + n.id + " acknowledged LSN " + n.maxAcked + " but recorded only " + records.applied()
                    + " after its " + (powerLoss ? "power loss" : "process crash"));
        }
        if (records.applied() > 0 && n.f.shard().lastLsn() <= records.applied()) {
            check(n, records.applied(), "reopen at a consistent point");
        }
    }

    private void register(Leader l) {
        histories.put(HexFormat.of().formatHex(l.meta.databaseId()) + "/" + l.epoch, l.history);
    }

    /** The history of the leader and epoch follower {@code n} recorded. */
    private History historyOf(Node n) {
        return histories.get(HexFormat.of().formatHex(n.f.leaderDatabaseId()) + "/" + n.f.leaderEpoch());
    }

    /** Whenever a follower records or acknowledges {@code x}, it holds a leader state at some LSN at or after it. */
    private void check(Node n, long x, String what) {
        History h = historyOf(n);
        if (h == null) {
            throw new Failure("f" + n.id + " " + what + " of LSN " + x + " following a database no leader had");
        }
        if (x > h.last()) {
            throw new Failure("f" + n.id + " " + what + " of LSN " + x + " beyond its leader's " + h.last());
        }
        long[] state = read(n.f.shard());
        if (!h.matchesAtOrAfter(x, state)) {
            throw new Failure("f" + n.id + " " + what + " of LSN " + x + " while holding " + Arrays.toString(state)
                    + ", no leader state at or after it: " + h.describeFrom(x));
        }
    }

    private void converge() throws java.io.IOException {
        log("converge: writes stop, links heal");
        for (int round = 0; round < CONVERGE_ROUNDS; round++) {
            now += 1_000_000;
            boolean all = true;
            for (Node n : nodes) {
                if (n.link != null && n.link.to != leader) {
                    cut(n, "leaves the zombie");
                }
                if (n.link == null) {
                    connect(n, leader);
                }
                leaderWork(n, 4);
                deliverDown(n);
                deliverUp(n);
                // the follower collection's group commit, which runs every interval
                SimShardDisk.groupForce(n.f.shard());
                n.f.forceRecordInBackground();
                quiet(n);
                all &= n.f.records().applied() == leader.shard.lastLsn() && n.link.handshakeDelivered;
            }
            if (all) {
                for (Node n : nodes) {
                    long[] got = read(n.f.shard());
                    if (!Arrays.equals(got, leader.history.current())) {
                        throw new Failure("f" + n.id + " converged to LSN " + leader.shard.lastLsn() + " holding "
                                + Arrays.toString(got) + ", the leader holds "
                                + Arrays.toString(leader.history.current()));
                    }
                }
                return;
            }
        }
        StringBuilder b = new StringBuilder("followers did not converge within " + CONVERGE_ROUNDS + " rounds:");
        for (Node n : nodes) {
            b.append(" f")
                    .append(n.id)
                    .append(" recorded ")
                    .append(n.f.records().applied());
        }
        throw new Failure(b + ", leader LSN " + leader.shard.lastLsn());
    }

    // ------------------------------------------------------------------ values

    static byte[] key(int k) {
        return SimShardDisk.key(k);
    }

    static byte[] value(long id) {
        return SimShardDisk.value(id);
    }

    /** The value id of each key (0 = absent, -1 = a value no write stored). */
    static long[] read(Shard shard) {
        long[] ids = new long[KEYS];
        byte[] out = new byte[VALUE];
        for (int k = 0; k < KEYS; k++) {
            byte[] key = key(k);
            ids[k] = shard.get(key, KeyHash.hash(key), out) ? SimShardDisk.idOf(out) : 0;
        }
        return ids;
    }

    private void log(String s) {
        trace.add(step + " @" + now / 1000 + "us: " + s);
    }

    // ------------------------------------------------------------------ model

    /** The leader node: its disk and shard, its epochs (the current one and those it still trusts), its lineage. */
    private final class Leader {
        final DbMeta meta;
        final FixedConfig cfg;
        final ReplicaLineage lineage;
        History history;
        final Set<Long> trusted = new HashSet<>();
        /** Its open sessions, those of connected followers and those still lingering after a cut. */
        final List<Link> sessions = new ArrayList<>();
        /** The highest LSN each follower node sent it an ACK for (what WAIT may count at most). */
        final Map<String, Long> acked = new HashMap<>();

        SimShardDisk disk;
        Shard shard;
        long epoch;
        long term;

        Leader(SimShardDisk disk, Shard shard, DbMeta meta, FixedConfig cfg, ReplicaLineage lineage, History history) {
            this.disk = disk;
            this.shard = shard;
            this.meta = meta;
            this.cfg = cfg;
            this.lineage = lineage;
            this.history = history;
            this.epoch = nextEpoch++;
            trusted.add(epoch);
            register(this);
        }
    }

    /** One follower node: its disk, its shard and records, and its link to the leader. */
    private final class Node {
        final int id;
        final DbMeta meta = DbMeta.create(followerCfg);
        SimShardDisk disk = new SimShardDisk();
        SimFollowerShard f;
        Link link;
        int reconnectAt;
        long maxAcked;

        Node(int id) {
            this.id = id;
            open(new SimFollowerShard.Records());
        }

        /** The id the node's handshakes carry (its database id, as {@code ReplicationClient} sends). */
        String nodeId() {
            return HexFormat.of().formatHex(meta.databaseId());
        }

        void open(SimFollowerShard.Records records) {
            Shard shard = disk.open(meta, followerCfg, true);
            f = new SimFollowerShard(shard, followerCfg, records, lsn -> {
                log("f" + id + " records LSN " + lsn);
                if (lsn > 0) {
                    check(this, lsn, "record");
                }
            });
        }
    }

    /**
     * A connection: the leader's streamer (with its session's reader and writer), the follower's session reader and
     * writer over its end's transport, and the bytes in flight each way.
     */
    private final class Link {
        final SimLeaderStream stream;
        final Leader to;
        final FrameReader followerIn;
        final SimTransport followerNet = new SimTransport();
        /** The follower's outbound frames, sized as a session's. */
        final FrameWriter followerOut =
                new FrameWriter(ByteBuffer.allocate(16 << 10).order(ByteOrder.LITTLE_ENDIAN));

        final Pipe down = new Pipe();
        final Pipe up = new Pipe();
        boolean handshakeDelivered;
        /** The step at which a cut session's peer timeout closes it on the leader; -1 while connected. */
        int lingerUntil = -1;

        Link(SimLeaderStream stream, Leader to, FrameReader followerIn) {
            this.stream = stream;
            this.to = to;
            this.followerIn = followerIn;
        }
    }

    /** Bytes in flight one way on a connection: in order (like TCP), each piece sent arriving at its time or later. */
    private static final class Pipe {
        private final ArrayDeque<Piece> pieces = new ArrayDeque<>();

        private static final class Piece {
            final byte[] bytes;
            final long at;
            int taken;

            Piece(byte[] bytes, long at) {
                this.bytes = bytes;
                this.at = at;
            }
        }

        void send(byte[] bytes, long at) {
            if (bytes.length > 0) {
                pieces.add(new Piece(bytes, Math.max(at, pieces.isEmpty() ? 0 : pieces.peekLast().at)));
            }
        }

        boolean isEmpty() {
            return pieces.isEmpty();
        }

        long firstAt() {
            return pieces.peek().at;
        }

        /** Bytes that have arrived by {@code now}. */
        int arrived(long now) {
            int n = 0;
            for (Piece p : pieces) {
                if (p.at > now) {
                    break;
                }
                n += p.bytes.length - p.taken;
            }
            return n;
        }

        /** Removes the first {@code n} bytes (at most what has arrived). */
        byte[] take(int n) {
            byte[] out = new byte[n];
            for (int done = 0; done < n; ) {
                Piece p = pieces.peek();
                int k = Math.min(n - done, p.bytes.length - p.taken);
                System.arraycopy(p.bytes, p.taken, out, done, k);
                p.taken += k;
                done += k;
                if (p.taken == p.bytes.length) {
                    pieces.poll();
                }
            }
            return out;
        }
    }

    /** The leader's contents after each LSN (and, for an LSN inside a multi-LSN step, before that step too). */
    private static final class History {
        private final List<long[]> after = new ArrayList<>();
        private final List<long[]> before = new ArrayList<>();

        History() {
            after.add(new long[KEYS]);
            before.add(null);
        }

        long last() {
            return after.size() - 1;
        }

        long[] current() {
            return after.get(after.size() - 1);
        }

        void advance(long lastLsn, long[] state) {
            long[] prev = current();
            while (last() < lastLsn) {
                boolean inside = last() + 1 < lastLsn;
                after.add(state);
                before.add(inside ? prev : null);
            }
        }

        /**
         * The history of a node promoted at its consistent point {@code x} holding {@code content}, whose LSN after the
         * promotion is {@code lastLsn}: this history up to {@code x}, then that content.
         */
        History rebase(long x, long[] content, long lastLsn) {
            History h = new History();
            for (int l = 1; l < x; l++) {
                h.after.add(after.get(l));
                h.before.add(before.get(l));
            }
            while (h.last() < lastLsn) {
                h.after.add(content);
                h.before.add(null);
            }
            return h;
        }

        /**
         * The history of a leader that came back from a power loss at {@code lsn} holding {@code content}: what it
         * held before is unknown (no follower may resume from it), then that content.
         */
        static History startingAt(long lsn, long[] content) {
            History h = new History();
            while (h.last() < lsn) {
                h.after.add(h.last() + 1 == lsn ? content : null);
                h.before.add(null);
            }
            return h;
        }

        boolean matchesAtOrAfter(long x, long[] state) {
            for (long y = x; y <= last(); y++) {
                long[] b = before.get((int) y);
                if (Arrays.equals(after.get((int) y), state) || (b != null && Arrays.equals(b, state))) {
                    return true;
                }
            }
            return false;
        }

        String describeFrom(long x) {
            StringBuilder b = new StringBuilder();
            for (long y = x; y <= last(); y++) {
                b.append(" @").append(y).append(Arrays.toString(after.get((int) y)));
            }
            return b.toString();
        }
    }

    /** A broken check. */
    private static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message, null, false, false);
        }
    }
}
