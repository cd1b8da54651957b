package dev.pods.junit;

import dev.pods.Deployment;
import dev.pods.Pod;
import dev.pods.PodRuntime;
import dev.pods.PodsException;
import dev.pods.Unit;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.ModifierSupport;

/**
 * The JUnit Jupiter extension behind {@link PodTest @PodTest}: deploys the {@link Deploy @Deploy} pods of a test
 * class around its tests on a shared {@link PodRuntime}, injects their {@link Deployment}s, destroys them afterwards,
 * and skips the class when the runtime cannot run on this host.
 *
 * <p><b>What it does, in order.</b>
 * <ol>
 *   <li>Condition: asks the class's {@link PodRuntimeFactory} (once per run) whether it can run here; if not, the
 *       class is skipped with the factory's reason.</li>
 *   <li>Before all (before the class's {@code @BeforeAll} methods): creates the run's runtime when it is the first
 *       class to need it, deploys the static {@code @Deploy} fields, waits until they are ready, sets the static
 *       {@code Deployment} fields.</li>
 *   <li>Before each (before {@code @BeforeEach} methods): the same for the instance fields of the test instances
 *       (the outer ones of a {@code @Nested} test included).</li>
 *   <li>After each / after all (after {@code @AfterEach} / {@code @AfterAll} methods, whatever happened): destroys
 *       what that level deployed, the latest first. The deployments are kept in the level's
 *       {@link ExtensionContext.Store} as closeable resources, which JUnit closes even when a callback, a test or
 *       another extension failed.</li>
 *   <li>End of the run (when the root context closes, or in a JVM shutdown hook when the JVM is told to stop):
 *       destroys what tests deployed through an injected {@link PodRuntime} and did not destroy, then closes the
 *       runtime. What a killed JVM leaves is reaped by the factory of the next run.</li>
 * </ol>
 *
 * <p><b>Injection.</b> Parameters of type {@link Deployment} (in test, lifecycle and constructor methods) receive the
 * deployment of the pod named by {@link PodName @PodName}, or the only one visible; parameters of type
 * {@link PodRuntime} receive the run's runtime (what a test deploys with it, it destroys; the rest goes at the end of
 * the run).
 *
 * <p><b>Why a unique pod name per deployment.</b> The runtime names instances (network namespaces, domains) after the
 * pod, and one runtime serves the whole run; two classes running in parallel that deploy the same {@code Pod} value
 * would collide. Each deployment therefore gets the pod renamed to {@code <name>-<n>} (truncated to a DNS label),
 * and the runtime's instance ids stay within the network driver's 40 characters by its own hashing rule.
 *
 * <p>Thread-safe: the run's runtime is shared through the root store; each level's deployments are in that level's
 * store. Registered by {@code @PodTest}; registering it by hand with {@code @ExtendWith} works the same (the
 * default runtime factory is then used).
 *
 * @since 0.1
 */
public final class PodsExtension
    implements ExecutionCondition, BeforeAllCallback, BeforeEachCallback, ParameterResolver {
  private static final Namespace RUN = Namespace.create(PodsExtension.class);
  private static final String SCOPE = "deployments";

  /** Called by JUnit. */
  public PodsExtension() {}

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    if (context.getTestMethod().isPresent() || context.getTestClass().isEmpty()) {
      return ConditionEvaluationResult.enabled("decided for the class");
    }
    Optional<String> reason = run(context).unavailableReason();
    return reason.map(r -> ConditionEvaluationResult.disabled("pods cannot run on this host: " + r))
        .orElseGet(() -> ConditionEvaluationResult.enabled("pods can run on this host"));
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    Class<?> type = context.getRequiredTestClass();
    List<Target> targets = new ArrayList<>();
    List<Field> named = new ArrayList<>();
    collect(type, null, true, targets, named);
    deployLevel(context, targets, named);
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    List<Target> targets = new ArrayList<>();
    List<Field> named = new ArrayList<>();
    List<Object> owners = new ArrayList<>();
    for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
      int before = named.size();
      collect(instance.getClass(), instance, false, targets, named);
      for (int i = before; i < named.size(); i++) {
        owners.add(instance);
      }
    }
    deployLevel(context, targets, named, owners);
  }

  // ------------------------------------------------------------------------------------------------ deploying

  /** One pod to deploy: from a {@code Pod} field, or from templates into a {@code Deployment} field. */
  private record Target(Field field, @Nullable Object owner, Deploy deploy, Pod pod) {
    String where() {
      return field.getDeclaringClass().getSimpleName() + "." + field.getName();
    }
  }

  /** The {@code @Deploy} and {@code @PodName} fields of one level (static or instance) of {@code type}. */
  private static void collect(Class<?> type, @Nullable Object owner, boolean statics, List<Target> targets,
      List<Field> named) throws Exception {
    for (Field f : AnnotationSupport.findAnnotatedFields(type, Deploy.class)) {
      if (ModifierSupport.isStatic(f) == statics) {
        targets.add(target(f, owner, f.getAnnotation(Deploy.class)));
      }
    }
    for (Field f : AnnotationSupport.findAnnotatedFields(type, PodName.class)) {
      if (ModifierSupport.isStatic(f) == statics) {
        requireDeploymentField(f, "@PodName");
        named.add(f);
      }
    }
  }

  private static Target target(Field f, @Nullable Object owner, Deploy deploy) throws Exception {
    String where = f.getDeclaringClass().getName() + "." + f.getName();
    if (f.isAnnotationPresent(PodName.class)) {
      throw new ExtensionConfigurationException(
          "field " + where + " has both @Deploy and @PodName: @PodName is for fields that receive a deployment");
    }
    if (deploy.readyTimeoutSeconds() <= 0) {
      throw new ExtensionConfigurationException(
          "@Deploy on " + where + ": readyTimeoutSeconds must be positive, not " + deploy.readyTimeoutSeconds());
    }
    if (f.getType() == Pod.class) {
      if (deploy.templates().length > 0 || !deploy.name().isEmpty()) {
        throw new ExtensionConfigurationException("@Deploy on the Pod field " + where
            + ": templates and name are for Deployment fields; a Pod field is deployed as it is");
      }
      f.setAccessible(true);
      Object value = f.get(owner);
      if (value == null) {
        throw new ExtensionConfigurationException("@Deploy field " + where + " is null: give it a Pod");
      }
      return new Target(f, owner, deploy, (Pod) value);
    }
    if (f.getType() == Deployment.class) {
      requireDeploymentField(f, "@Deploy");
      if (deploy.templates().length == 0) {
        throw new ExtensionConfigurationException("@Deploy on the Deployment field " + where
            + " names no templates: give @Deploy(templates = {...}), or put @Deploy on a Pod field");
      }
      String name = deploy.name().isEmpty() ? f.getName() : deploy.name();
      if (!name.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")) {
        throw new ExtensionConfigurationException("@Deploy on " + where + ": the pod's name '" + name
            + "' is not a DNS label (1-63 lower-case letters, digits or inner '-'); give one with @Deploy(name = ...)");
      }
      Pod.Builder b = Pod.builder().name(name);
      for (String t : deploy.templates()) {
        b.unit(Unit.fromMarkdown(templatePath(f.getDeclaringClass(), t, where)));
      }
      return new Target(f, owner, deploy, b.build());
    }
    throw new ExtensionConfigurationException("@Deploy on " + where + " of type " + f.getType().getName()
        + ": @Deploy goes on a field of type dev.pods.Pod or dev.pods.Deployment");
  }

  private static void requireDeploymentField(Field f, String annotation) {
    String where = f.getDeclaringClass().getName() + "." + f.getName();
    if (f.getType() != Deployment.class) {
      throw new ExtensionConfigurationException(
          annotation + " field " + where + " must be of type dev.pods.Deployment, not " + f.getType().getName());
    }
    if (Modifier.isFinal(f.getModifiers())) {
      throw new ExtensionConfigurationException(annotation + " field " + where + " is final: it cannot be set");
    }
  }

  /** A template path: in the file system, else a class path resource (in a folder, not a jar). */
  static Path templatePath(Class<?> testClass, String template, String where) {
    Path p = Path.of(template);
    if (Files.isRegularFile(p)) {
      return p;
    }
    URL url = testClass.getResource(template);
    if (url != null && "file".equals(url.getProtocol())) {
      try {
        return Path.of(url.toURI());
      } catch (URISyntaxException e) {
        throw new ExtensionConfigurationException("template " + template + " of " + where + ": " + e, e);
      }
    }
    throw new ExtensionConfigurationException("template " + template + " of " + where + " not found: neither "
        + p.toAbsolutePath() + " nor a class path resource " + template + " next to " + testClass.getName()
        + (url == null ? "" : " (found in " + url + ", but only resources in folders can be read)"));
  }

  private void deployLevel(ExtensionContext context, List<Target> targets, List<Field> named) throws Exception {
    List<Object> owners = new ArrayList<>();
    for (int i = 0; i < named.size(); i++) {
      owners.add(null);
    }
    deployLevel(context, targets, named, owners);
  }

  private void deployLevel(ExtensionContext context, List<Target> targets, List<Field> named,
      List<@Nullable Object> namedOwners) throws Exception {
    if (targets.isEmpty() && named.isEmpty()) {
      return;
    }
    Map<String, Target> byName = new LinkedHashMap<>();
    for (Target t : targets) {
      Target other = byName.putIfAbsent(t.pod().name(), t);
      if (other != null) {
        throw new ExtensionConfigurationException("@Deploy fields " + other.where() + " and " + t.where()
            + " both deploy a pod named '" + t.pod().name() + "' at the same level");
      }
    }
    Scope scope = new Scope();
    context.getStore(levelNamespace(context)).put(SCOPE, scope);
    if (!targets.isEmpty()) {
      RunRuntime run = run(context);
      PodRuntime runtime = run.runtime();
      for (Target t : targets) {
        Pod unique = t.pod().toBuilder().name(run.uniqueName(t.pod().name())).build();
        scope.add(t.pod().name(), runtime.deploy(unique));
      }
      for (Target t : targets) {
        Deployment d = scope.get(t.pod().name());
        if (t.deploy().awaitReady()) {
          Duration timeout = Duration.ofSeconds(t.deploy().readyTimeoutSeconds());
          try {
            d.awaitReady(timeout);
          } catch (PodsException e) {
            throw new PodsException("pod " + t.pod().name() + " of " + t.where() + " (deployed as "
                + d.pod().name() + ") did not get ready: " + e.getMessage(), e);
          }
        }
        if (t.field().getType() == Deployment.class) {
          set(t.field(), t.owner(), d);
        }
      }
    }
    for (int i = 0; i < named.size(); i++) {
      Field f = named.get(i);
      String name = f.getAnnotation(PodName.class).value();
      set(f, namedOwners.get(i), lookUp(context, name, f.getDeclaringClass().getName() + "." + f.getName()));
    }
  }

  private static void set(Field f, @Nullable Object owner, Deployment d) throws IllegalAccessException {
    f.setAccessible(true);
    f.set(owner, d);
  }

  // ------------------------------------------------------------------------------------------------ injection

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> t = parameter.getParameter().getType();
    return t == Deployment.class || t == PodRuntime.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    if (parameter.getParameter().getType() == PodRuntime.class) {
      return run(context).runtime();
    }
    String where = "parameter " + parameter.getParameter().getName() + " of "
        + parameter.getDeclaringExecutable().getDeclaringClass().getSimpleName() + "."
        + parameter.getDeclaringExecutable().getName();
    Optional<PodName> name = parameter.findAnnotation(PodName.class);
    try {
      if (name.isPresent()) {
        return lookUp(context, name.get().value(), where);
      }
      Map<String, Deployment> visible = visible(context);
      if (visible.size() == 1) {
        return visible.values().iterator().next();
      }
      throw new ParameterResolutionException(visible.isEmpty()
          ? where + ": no pod is deployed for this test; put @Deploy on a Pod field"
          : where + ": several pods are deployed " + new TreeSet<>(visible.keySet()) + "; say which with @PodName");
    } catch (ExtensionConfigurationException e) {
      throw new ParameterResolutionException(e.getMessage(), e);
    }
  }

  private static Deployment lookUp(ExtensionContext context, String name, String where) {
    Map<String, Deployment> visible = visible(context);
    Deployment d = visible.get(name);
    if (d == null) {
      throw new ExtensionConfigurationException(where + " asks for pod '" + name + "', but "
          + (visible.isEmpty() ? "no pod is deployed" : "the pods deployed are " + new TreeSet<>(visible.keySet())));
    }
    return d;
  }

  /** The deployments a context sees: its own level's, then its parents', the innermost winning a name. */
  private static Map<String, Deployment> visible(ExtensionContext context) {
    Map<String, Deployment> out = new LinkedHashMap<>();
    for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
      Scope s = c.getStore(levelNamespace(c)).get(SCOPE, Scope.class);
      if (s != null) {
        s.snapshot().forEach(out::putIfAbsent);
      }
    }
    return out;
  }

  private static Namespace levelNamespace(ExtensionContext c) {
    return Namespace.create(PodsExtension.class, c.getUniqueId());
  }

  // ------------------------------------------------------------------------------------------------ the runtime

  /** The run's runtime of the factory named by the class's {@code @PodTest} (or its enclosing class's). */
  private static RunRuntime run(ExtensionContext context) {
    Class<? extends PodRuntimeFactory> factory = factoryOf(context.getTestClass().orElse(null));
    return context.getRoot().getStore(RUN)
        .getOrComputeIfAbsent(factory, RunRuntime::new, RunRuntime.class);
  }

  private static Class<? extends PodRuntimeFactory> factoryOf(@Nullable Class<?> type) {
    for (Class<?> c = type; c != null; c = c.getEnclosingClass()) {
      Optional<PodTest> a = AnnotationSupport.findAnnotation(c, PodTest.class);
      if (a.isPresent()) {
        return a.get().runtime();
      }
    }
    return LocalRuntimeFactory.class;
  }

  /** One level's deployments (a class's or a test's), destroyed when JUnit closes the level's store. */
  private static final class Scope implements ExtensionContext.Store.CloseableResource {
    private final Map<String, Deployment> deployments = new LinkedHashMap<>();

    synchronized void add(String name, Deployment d) {
      deployments.put(name, d);
    }

    synchronized Deployment get(String name) {
      Deployment d = deployments.get(name);
      if (d == null) {
        throw new IllegalStateException("no deployment of pod " + name);
      }
      return d;
    }

    synchronized Map<String, Deployment> snapshot() {
      return new LinkedHashMap<>(deployments);
    }

    /** Destroys every deployment, the latest first; throws the first failure with the others suppressed. */
    @Override
    public void close() {
      List<Deployment> all;
      synchronized (this) {
        all = new ArrayList<>(deployments.values());
        deployments.clear();
      }
      RuntimeException failure = null;
      for (int i = all.size() - 1; i >= 0; i--) {
        try {
          all.get(i).destroy();
        } catch (RuntimeException e) {
          if (failure == null) {
            failure = e;
          } else {
            failure.addSuppressed(e);
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
    }
  }
}
