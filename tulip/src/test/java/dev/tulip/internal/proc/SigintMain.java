package dev.tulip.internal.proc;

import dev.tulip.Tulip;
import java.time.Duration;
import java.util.concurrent.CancellationException;

/** A child JVM for SigintTest: Tulip.run with a main task that sleeps until SIGINT cancels it. */
public final class SigintMain {
    private SigintMain() {
    }

    public static void main(String[] args) {
        try {
            Tulip.run(() -> {
                try {
                    System.out.println("ready");
                    System.out.flush();
                    Tulip.sleep(Duration.ofMinutes(5));
                    return null;
                } finally {
                    System.out.println("finally ran");
                    System.out.flush();
                }
            });
            System.exit(1);
        } catch (CancellationException e) {
            System.out.println("cancelled: " + e.getMessage());
            System.exit(3);
        }
    }
}
