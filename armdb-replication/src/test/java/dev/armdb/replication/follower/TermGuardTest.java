package dev.armdb.replication.follower;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ProtocolException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

/**
 * The term rule alone, over an in-memory record that models the disk: every pair of (highest term seen, leader
 * term) from a set of edge values, a record that fails to persist (a crash between receiving a term and recording
 * it), and a concurrent raise that overtakes the check.
 */
class TermGuardTest {
    /** A term record: {@code durable} is what survives a crash; the guard may only see what is durable. */
    private static final class Record {
        long durable;
        boolean failNextWrite;
        int writes;

        long raise(long t) {
            if (t > durable) {
                if (failNextWrite) {
                    throw new UncheckedIOException(new java.io.IOException("disk full (simulated)"));
                }
                writes++;
                durable = t;
            }
            return durable;
        }
    }

    private static final long[] TERMS = {0, 1, 2, 41, 42, 43, Long.MAX_VALUE - 1, Long.MAX_VALUE};

    @Test
    void everyPairOfSeenAndLeaderTermFollowsTheRule() {
        for (long seen : TERMS) {
            for (long leader : TERMS) {
                Record r = new Record();
                r.durable = seen;
                TermGuard guard = new TermGuard(() -> r.durable, r::raise);
                String what = "seen " + seen + ", leader " + leader;
                if (leader < seen) {
                    assertThatThrownBy(() -> guard.check(leader))
                            .as(what)
                            .isInstanceOfSatisfying(
                                    ProtocolException.class,
                                    e -> assertThat(e.code()).isEqualTo(ErrorCode.STALE_TERM))
                            .hasMessageContaining("leader term " + leader + " is lower than term " + seen);
                    assertThat(r.durable).as(what).isEqualTo(seen);
                    assertThat(r.writes).as(what).isZero();
                } else {
                    assertThat(guard.check(leader)).as(what).isEqualTo(leader > seen);
                    assertThat(r.durable)
                            .as(what + ": recorded before check returns")
                            .isEqualTo(leader);
                    assertThat(r.writes).as(what).isEqualTo(leader > seen ? 1 : 0);
                }
            }
        }
    }

    /**
     * A crash (here: a failed write) between receiving a higher term and recording it: the check does not return, so
     * the session goes no further (no apply, no ack), and the record still holds the old term; the next attempt
     * records it.
     */
    @Test
    void aTermThatCannotBeRecordedStopsTheCaller() {
        Record r = new Record();
        r.durable = 3;
        r.failNextWrite = true;
        TermGuard guard = new TermGuard(() -> r.durable, r::raise);
        assertThatThrownBy(() -> guard.check(9)).isInstanceOf(UncheckedIOException.class);
        assertThat(r.durable).isEqualTo(3);
        assertThat(guard.check(3)).as("the old term is still accepted").isFalse();
        r.failNextWrite = false;
        assertThat(guard.check(9)).isTrue();
        assertThat(r.durable).isEqualTo(9);
        assertThatThrownBy(() -> guard.check(3))
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STALE_TERM));
    }

    /**
     * Another shard's session records a higher term between this check's read and its raise: the raise reports the
     * higher term, and this leader is refused even though its term was above what the check first read.
     */
    @Test
    void aHigherTermRecordedMeanwhileRefusesTheLowerLeader() {
        Record r = new Record();
        r.durable = 2;
        TermGuard guard = new TermGuard(() -> r.durable, t -> {
            r.raise(7);
            return r.raise(t);
        });
        assertThatThrownBy(() -> guard.check(5))
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STALE_TERM))
                .hasMessageContaining("leader term 5 is lower than term 7");
        assertThat(r.durable).isEqualTo(7);
    }
}
