package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The checker of the process fault tests: what the clients saw (each write's key, value, node, start and end {@code
 * System.nanoTime()} and reply) and what the nodes reported of the writes they accepted (per node and term, the
 * monotonic times of the first and last accept, from {@code INFO cluster}); and the checks over both. {@code
 * System.nanoTime()} reads {@code CLOCK_MONOTONIC} on Linux, so the times of the test and of the node processes
 * compare (the sampler checks that on every read).
 *
 * <p>Thread-safe: writers and the sampler record from their threads, the test checks from its own.
 */
final class FaultHistory {
    /** What a reply says of a write. */
    enum Outcome {
        /** {@code +OK}: acknowledged; it must survive. */
        ACKED,
        /** Refused before anything was written ({@code -TRYAGAIN}, {@code -READONLY}, not enough replicas). */
        REFUSED,
        /** Maybe applied: no reply (connection lost, timeout) or {@code ... outcome is unknown}. */
        UNKNOWN
    }

    /** One client write. */
    record Write(
            String writer,
            String node,
            String key,
            String value,
            long start,
            long end,
            Outcome outcome,
            String reply) {}

    /** The accepts of one node under one term: the first and last accept times. */
    record Window(String node, long term, long first, long last) {}

    private final List<Write> writes = new ArrayList<>();
    private final Map<String, Window> windows = new LinkedHashMap<>();
    private final List<String> clockSkews = new ArrayList<>();

    /** The outcome of a write answered {@code reply} (null: no reply). */
    static Outcome classify(String reply) {
        if (reply == null || reply.contains("outcome is unknown")) {
            return Outcome.UNKNOWN;
        }
        if (reply.equals("+OK")) {
            return Outcome.ACKED;
        }
        if (reply.startsWith("-TRYAGAIN")
                || reply.startsWith("-READONLY")
                || reply.startsWith("-NOREPLICAS Not enough")) {
            return Outcome.REFUSED;
        }
        return Outcome.UNKNOWN;
    }

    synchronized void record(Write w) {
        writes.add(w);
    }

    /** Records a node's report of {@code term}'s accepts; the bounds only widen across reports. */
    synchronized void window(String node, long term, long first, long last) {
        windows.merge(
                node + "/" + term,
                new Window(node, term, first, last),
                (a, b) -> new Window(node, term, Math.min(a.first(), b.first()), Math.max(a.last(), b.last())));
    }

    /** Records that a node's monotonic clock read outside the test's reads around it. */
    synchronized void clockSkew(String what) {
        clockSkews.add(what);
    }

    synchronized List<Write> writes() {
        return List.copyOf(writes);
    }

    synchronized List<Window> windows() {
        return List.copyOf(windows.values());
    }

    /** Every key written so far, once each, in the order of their first writes. */
    synchronized List<String> keys() {
        return writes.stream().map(Write::key).distinct().toList();
    }

    /** The writes acknowledged so far. */
    synchronized long acked() {
        return writes.stream().filter(w -> w.outcome() == Outcome.ACKED).count();
    }

    /** The writes {@code node} acknowledged that began after {@code sinceNanos}. */
    synchronized long ackedOn(String node, long sinceNanos) {
        return writes.stream()
                .filter(w -> w.outcome() == Outcome.ACKED && w.node().equals(node) && w.start() - sinceNanos > 0)
                .count();
    }

    /** The windows of {@code node}, by term. */
    synchronized Map<Long, Window> windowsOf(String node) {
        Map<Long, Window> m = new HashMap<>();
        windows.values().stream().filter(w -> w.node().equals(node)).forEach(w -> m.put(w.term(), w));
        return m;
    }

    /**
     * Never two leaders: the accepts of a lower term all precede every accept of a higher term, on whichever nodes;
     * and the node clocks agreed with the test's on every read.
     */
    synchronized void assertNeverTwoLeaders() {
        assertThat(clockSkews)
                .as("node monotonic clocks outside the test's reads")
                .isEmpty();
        List<Window> ws = new ArrayList<>(windows.values());
        ws.sort(Comparator.comparingLong(Window::term));
        for (int i = 0; i < ws.size(); i++) {
            for (int j = i + 1; j < ws.size(); j++) {
                Window lo = ws.get(i);
                Window hi = ws.get(j);
                if (lo.term() < hi.term()) {
                    assertThat(lo.last() - hi.first())
                            .as(
                                    "term %d (node %s) accepted a write %d us after term %d (node %s) began accepting;"
                                            + " windows %s",
                                    lo.term(), lo.node(), (lo.last() - hi.first()) / 1_000, hi.term(), hi.node(), ws)
                            .isNegative();
                }
            }
        }
    }

    /**
     * Every acknowledged write survives: with {@code finalValues} the value of every key on every node after healing
     * (null: absent), a key's final value was written by a write that was not refused and that no acknowledged write
     * of the key began after (a write of unknown outcome may have been applied at any time after it began); a key
     * with an acknowledged write is present. Returns the writes checked.
     */
    synchronized long assertAcknowledgedWritesKept(Map<String, String> finalValues) {
        Map<String, Write> byValue = new HashMap<>();
        Map<String, List<Write>> ackedByKey = new HashMap<>();
        for (Write w : writes) {
            byValue.put(w.value(), w);
            if (w.outcome() == Outcome.ACKED) {
                ackedByKey.computeIfAbsent(w.key(), k -> new ArrayList<>()).add(w);
            }
        }
        long checked = 0;
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, List<Write>> e : ackedByKey.entrySet()) {
            String key = e.getKey();
            checked += e.getValue().size();
            String v = finalValues.get(key);
            if (v == null) {
                problems.add(key + ": absent, acknowledged " + e.getValue().getLast());
                continue;
            }
            Write last = byValue.get(v);
            if (last == null || !last.key().equals(key)) {
                problems.add(key + ": holds " + v + ", which no client wrote to it");
                continue;
            }
            if (last.outcome() == Outcome.REFUSED) {
                problems.add(key + ": holds the value of a refused write " + last);
                continue;
            }
            long lastEnd = last.outcome() == Outcome.ACKED ? last.end() : Long.MAX_VALUE;
            for (Write a : e.getValue()) {
                if (lastEnd != Long.MAX_VALUE && a.start() - lastEnd > 0) {
                    problems.add(key + ": acknowledged " + a + " lost under " + last);
                }
            }
        }
        for (Map.Entry<String, String> e : finalValues.entrySet()) {
            Write w = e.getValue() == null ? null : byValue.get(e.getValue());
            if (w != null && w.key().equals(e.getKey()) && w.outcome() == Outcome.REFUSED) {
                problems.add(e.getKey() + ": holds the value of a refused write " + w);
            }
        }
        assertThat(problems)
                .as("acknowledged writes lost or refused writes applied (%d acknowledged checked)", checked)
                .isEmpty();
        return checked;
    }
}
