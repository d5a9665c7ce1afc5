package dev.armdb.server;

import dev.armdb.store.Shard;
import dev.armdb.store.Store;
import java.util.ArrayList;
import java.util.List;

/**
 * MULTI / EXEC / DISCARD / WATCH / UNWATCH of one connection, with Redis's semantics: after MULTI commands are
 * checked and queued ({@code +QUEUED}); a command refused while queuing makes EXEC answer EXECABORT and run nothing;
 * EXEC runs the queue holding the writer locks of every shard its keys (and the watched keys) live in, taken in
 * ascending order, so no other writer interleaves; an error of one queued command at run time is that command's
 * reply only. WATCH remembers each key's LSN (that of the slot holding its current value, 0 if absent); EXEC answers
 * a null array and runs nothing if any of them differs once the locks are held. Used by one thread at a time, as
 * {@link RespCommands}.
 */
final class TransactionCommands {
    /** Where this connection is in a transaction. */
    enum State {
        /** No MULTI. */
        IDLE,
        /** After MULTI: commands are queued. */
        QUEUING,
        /** After MULTI and a refused command: EXEC will abort. */
        QUEUING_FAILED
    }

    private record Watch(byte[] key, int shard, long lsn) {}

    private record Queued(RespCommandTable.Spec spec, List<byte[]> args) {}

    private final RespContext ctx;
    private final RespWriter out;
    private final RespCommands dispatcher;
    private final List<Queued> queue = new ArrayList<>();
    private final List<Watch> watched = new ArrayList<>();
    private State state = State.IDLE;

    TransactionCommands(RespContext ctx, RespCommands dispatcher) {
        this.ctx = ctx;
        this.out = ctx.out;
        this.dispatcher = dispatcher;
    }

    void register(RespCommands.Binder b) {
        b.on("MULTI", a -> {
            if (state != State.IDLE) {
                throw new RespArgsException("ERR MULTI calls can not be nested");
            }
            state(State.QUEUING, "MULTI");
            out.ok();
        });
        b.on("EXEC", a -> exec());
        b.on("DISCARD", a -> {
            if (state == State.IDLE) {
                throw new RespArgsException("ERR DISCARD without MULTI");
            }
            reset();
            out.ok();
        });
        b.on("WATCH", this::watch);
        b.on("UNWATCH", a -> {
            unwatch();
            out.ok();
        });
    }

    /** Every change of {@link #state} goes through here; {@code reason} names what caused it. */
    private void state(State next, String reason) {
        java.util.Objects.requireNonNull(reason, "reason");
        state = next;
        ctx.client.transaction(state != State.IDLE, watched.size());
    }

    /** True after MULTI: the dispatcher queues commands instead of running them. */
    boolean queuing() {
        return state != State.IDLE;
    }

    /** True if EXEC now would write (so under SYNC durability it must run off the event loop). */
    boolean queuedWrites() {
        return queue.stream().anyMatch(q -> q.spec().has(RespCommandTable.Flag.WRITE));
    }

    /** Queues a checked command: its arguments are copied, as the parser may reuse them. */
    void queue(RespCommandTable.Spec spec, List<byte[]> args) {
        List<byte[]> copy = new ArrayList<>(args.size());
        for (byte[] a : args) {
            copy.add(a.clone());
        }
        queue.add(new Queued(spec, copy));
        out.simple("QUEUED");
    }

    /** A command was refused while queuing: EXEC will abort. */
    void queuingFailed() {
        if (state == State.QUEUING) {
            state(State.QUEUING_FAILED, "a command was refused while queuing");
        }
    }

    /** DISCARD, RESET, or the end of EXEC: forgets the queue and the watched keys. */
    void reset() {
        queue.clear();
        watched.clear();
        state(State.IDLE, "transaction ended");
        ctx.client.transaction(false, 0);
    }

    private void unwatch() {
        watched.clear();
        ctx.client.transaction(state != State.IDLE, 0);
    }

    private void watch(List<byte[]> a) {
        if (state != State.IDLE) {
            throw new RespArgsException("ERR WATCH inside MULTI is not allowed");
        }
        for (int i = 1; i < a.size(); i++) {
            ctx.key(a.get(i));
        }
        for (int i = 1; i < a.size(); i++) {
            byte[] k = a.get(i).clone();
            int s = ctx.shardOf(k);
            Shard shard = ctx.map().engine().shard(s);
            shard.lockForTransaction();
            try {
                watched.add(new Watch(k, s, keyLsn(shard, k)));
            } finally {
                shard.unlockForTransaction();
            }
        }
        ctx.client.transaction(false, watched.size());
        out.ok();
    }

    /** The LSN of the slot holding {@code key}'s current value, 0 if absent. Caller holds the shard's lock. */
    private static long keyLsn(Shard shard, byte[] key) {
        int slot = shard.currentSlotOf(key);
        if (slot < 0) {
            return 0;
        }
        byte[] image = new byte[shard.slotSize()];
        return shard.readSlotImage(slot, image, 0);
    }

    private void exec() {
        if (state == State.IDLE) {
            throw new RespArgsException("ERR EXEC without MULTI");
        }
        if (state == State.QUEUING_FAILED) {
            reset();
            throw new RespArgsException("EXECABORT Transaction discarded because of previous errors.");
        }
        Store store = ctx.map().engine();
        boolean[] shards = shardsToLock();
        store.lockShardsForTransaction(shards);
        try {
            if (watchedKeyChanged(store)) {
                out.nullArray();
                return;
            }
            out.arrayHeader(queue.size());
            for (Queued q : queue) {
                dispatcher.run(q.spec(), q.args());
            }
        } finally {
            store.unlockShardsForTransaction(shards);
            reset();
        }
    }

    private boolean watchedKeyChanged(Store store) {
        for (Watch w : watched) {
            if (keyLsn(store.shard(w.shard()), w.key()) != w.lsn()) {
                return true;
            }
        }
        return false;
    }

    /** The shards of every key the queue names and every watched key; all shards if a command reads them all. */
    private boolean[] shardsToLock() {
        int n = ctx.map().config().shards();
        int keySize = ctx.map().config().keySize();
        boolean[] lock = new boolean[n];
        for (Watch w : watched) {
            lock[w.shard()] = true;
        }
        for (Queued q : queue) {
            RespCommandTable.Spec spec = q.spec();
            if (spec.has(RespCommandTable.Flag.ALL_KEYS)) {
                java.util.Arrays.fill(lock, true);
                return lock;
            }
            if (spec.firstKey() <= 0) {
                continue;
            }
            int last = spec.lastKeyIn(q.args().size());
            for (int i = spec.firstKey(); i <= last; i += spec.step()) {
                byte[] k = q.args().get(i);
                // a key of the wrong size fails at run time with its own error; it has no shard
                if (k.length == keySize) {
                    lock[ctx.shardOf(k)] = true;
                }
            }
        }
        return lock;
    }
}
