package dev.armdb.cluster;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A leader's record of the writes its fence accepted, per term: the monotonic time ({@link System#nanoTime()}, which
 * on Linux reads {@code CLOCK_MONOTONIC} and so compares across the processes of one host) of the first and of the
 * last write accepted under that term, for the current term and the few before it. A fault test reads it through
 * {@code INFO cluster} to check that the accept intervals of different terms never overlap: never two leaders
 * accepting at once.
 *
 * <p>The time recorded is the one the fence checked the lease against, so the record says exactly what the fence
 * promises; a write applied later than its check (the process paused in between) was accepted at its check.
 *
 * <p>Threading: {@link #open} from the node's cluster thread (under the fence's lock); {@link Window#accepted} from
 * any thread on the write path, allocation-free (two volatile reads, and a compare-and-set only when a bound moves);
 * {@link #recent} from any thread.
 */
final class AcceptLog {
    /** Windows kept, the current one included. */
    static final int KEPT = 8;

    /** Bound of a window that has accepted nothing yet; {@code System.nanoTime()} is never this in practice. */
    static final long NONE = Long.MIN_VALUE;

    private static final VarHandle FIRST;
    private static final VarHandle LAST;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            FIRST = l.findVarHandle(Window.class, "first", long.class);
            LAST = l.findVarHandle(Window.class, "last", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final ArrayDeque<Window> windows = new ArrayDeque<>();
    private volatile Window current;

    /** The writes accepted under one term: the earliest and latest accept times, {@link #NONE} while none. */
    static final class Window {
        private final long term;

        @SuppressWarnings("unused") // through FIRST
        private volatile long first = NONE;

        @SuppressWarnings("unused") // through LAST
        private volatile long last = NONE;

        Window(long term) {
            this.term = term;
        }

        /** Records a write accepted at {@code nowNanos}: moves the first bound down and the last up if need be. */
        void accepted(long nowNanos) {
            long f;
            // several event loops accept at once: a bound only ever moves outwards, by compare-and-set
            while (((f = (long) FIRST.getVolatile(this)) == NONE || nowNanos - f < 0)
                    && !FIRST.compareAndSet(this, f, nowNanos)) {
                Thread.onSpinWait();
            }
            long l;
            while (((l = (long) LAST.getVolatile(this)) == NONE || nowNanos - l > 0)
                    && !LAST.compareAndSet(this, l, nowNanos)) {
                Thread.onSpinWait();
            }
        }

        /** The term. */
        long term() {
            return term;
        }

        /** The first accept time, {@link #NONE} if none. */
        long first() {
            return (long) FIRST.getVolatile(this);
        }

        /** The last accept time, {@link #NONE} if none. */
        long last() {
            return (long) LAST.getVolatile(this);
        }
    }

    /**
     * Starts the window of {@code term}, which becomes the current one, unless it is current already; the oldest of
     * more than {@link #KEPT} windows is forgotten.
     */
    synchronized void open(long term) {
        Window w = current;
        if (w != null && w.term == term) {
            return;
        }
        Window next = new Window(term);
        windows.addFirst(next);
        if (windows.size() > KEPT) {
            windows.removeLast();
        }
        current = next;
    }

    /** The current window, or null before the first term this node led. */
    Window current() {
        return current;
    }

    /** The windows kept, newest first. */
    synchronized List<Window> recent() {
        return new ArrayList<>(windows);
    }
}
