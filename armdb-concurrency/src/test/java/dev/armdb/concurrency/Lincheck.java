package dev.armdb.concurrency;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import kotlin.Unit;
import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.CustomScenarioDSLKt;
import org.jetbrains.lincheck.datastructures.DSLThreadScenario;

/** Settings and scenario building shared by the proofs of this module. Stateless. */
final class Lincheck {
    private Lincheck() {}

    /**
     * Multiplier of every proof's iteration count: {@code -Darmdb.lincheck.scale=N}, 1 by default and larger under
     * the {@code soak} profile.
     */
    static int scale() {
        return Integer.getInteger("armdb.lincheck.scale", 1);
    }

    /** One call of the operation {@code name} of {@code test} with {@code args}. */
    static Actor call(Class<?> test, String name, Object... args) {
        for (Method m : test.getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == args.length) {
                return new Actor(m, List.of(args));
            }
        }
        throw new IllegalArgumentException(
                "expected an operation " + name + " with " + args.length + " parameters in " + test.getName());
    }

    /**
     * A scenario that always runs beside the generated ones: {@code initial} calls, then each array of {@code
     * threads} on its own thread in parallel.
     */
    static ExecutionScenario scenario(List<Actor> initial, List<List<Actor>> threads) {
        return CustomScenarioDSLKt.scenario(b -> {
            b.initial(t -> add(t, initial));
            b.parallel(p -> {
                for (List<Actor> thread : threads) {
                    p.thread(t -> add(t, thread));
                }
                return Unit.INSTANCE;
            });
            return Unit.INSTANCE;
        });
    }

    private static Unit add(DSLThreadScenario thread, List<Actor> actors) {
        thread.addAll(actors);
        return Unit.INSTANCE;
    }

    /** Shorthand for a list of actors. */
    static List<Actor> calls(Actor... actors) {
        return Arrays.asList(actors);
    }
}
