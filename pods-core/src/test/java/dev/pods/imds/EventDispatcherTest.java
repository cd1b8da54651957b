package dev.pods.imds;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EventDispatcherTest {
  private static AgentEvent heartbeat(int n) {
    return new AgentEvent.Heartbeat("i-" + n, Instant.EPOCH.plusSeconds(n));
  }

  @Test
  void eventsArriveInOrderOneAtATime() throws Exception {
    List<AgentEvent> got = new CopyOnWriteArrayList<>();
    CountDownLatch all = new CountDownLatch(500);
    try (EventDispatcher d = new EventDispatcher(e -> {
      got.add(e);
      all.countDown();
    }, "i", Clock.systemUTC(), 1000)) {
      for (int i = 0; i < 500; i++) {
        d.publish(heartbeat(i));
      }
      assertThat(all.await(10, TimeUnit.SECONDS)).isTrue();
    }
    List<AgentEvent> expected = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      expected.add(heartbeat(i));
    }
    assertThat(got).containsExactlyElementsOf(expected);
  }

  @Test
  void whatDoesNotFitIsDroppedCountedAndToldWhenTheListenerReturns() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    LinkedBlockingQueue<AgentEvent> got = new LinkedBlockingQueue<>();
    try (EventDispatcher d = new EventDispatcher(e -> {
      got.add(e);
      try {
        release.await();
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }, "i", Clock.systemUTC(), 4)) {
      d.publish(heartbeat(0));
      assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo(heartbeat(0)); // the listener is now stuck on it
      for (int i = 1; i <= 10; i++) {
        d.publish(heartbeat(i)); // 1..3 wait (the stuck one still counts), 4..10 do not fit
      }
      assertThat(d.queuedBytes()).isEqualTo(4 * EventDispatcher.weight(heartbeat(0)));
      release.countDown();
      List<AgentEvent> rest = new ArrayList<>();
      while (rest.size() < 4) {
        rest.add(got.poll(10, TimeUnit.SECONDS));
      }
      assertThat(rest.get(0)).isInstanceOfSatisfying(AgentEvent.EventsDropped.class,
          e -> assertThat(e.count()).isEqualTo(7));
      assertThat(rest.subList(1, 4)).containsExactly(heartbeat(1), heartbeat(2), heartbeat(3));
    }
  }

  @Test
  void idleDispatchersHoldNoThreadOfTheirOwn() throws Exception {
    List<EventDispatcher> many = new ArrayList<>();
    try {
      for (int i = 0; i < 100; i++) {
        CountDownLatch delivered = new CountDownLatch(1);
        EventDispatcher d = new EventDispatcher(e -> delivered.countDown(), "i-" + i, Clock.systemUTC(), 10);
        many.add(d);
        d.publish(heartbeat(i));
        assertThat(delivered.await(10, TimeUnit.SECONDS)).isTrue();
      }
      long threads = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> t.getName().startsWith("pods-imds-events-")).count();
      assertThat(threads).as("delivery threads for 100 open dispatchers").isLessThan(10);
    } finally {
      many.forEach(EventDispatcher::close);
    }
  }

  @Test
  void closeInterruptsAListenerThatDoesNotReturn() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    EventDispatcher d = new EventDispatcher(e -> {
      entered.countDown();
      try {
        new CountDownLatch(1).await();
      } catch (InterruptedException ie) {
        interrupted.countDown();
      }
    }, "i", Clock.systemUTC(), 10);
    d.publish(heartbeat(1));
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
    d.close();
    assertThat(interrupted.await(10, TimeUnit.SECONDS)).isTrue();
    d.publish(heartbeat(2)); // after close: dropped, no failure
  }
}
