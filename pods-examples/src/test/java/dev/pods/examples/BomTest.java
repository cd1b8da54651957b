package dev.pods.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/** The BOM names every published module of the reactor, at the reactor's version, and nothing else. */
class BomTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void theBomListsEveryLibraryModuleAtTheReactorsVersion() throws Exception {
    Document parent = parse(ROOT.resolve("pom.xml"));
    String version = child(parent.getDocumentElement(), "version");
    List<String> published = new ArrayList<>();
    NodeList modules = parent.getElementsByTagName("module");
    for (int i = 0; i < modules.getLength(); i++) {
      String m = modules.item(i).getTextContent().trim();
      Document pom = parse(ROOT.resolve(m).resolve("pom.xml"));
      String packaging = child(pom.getDocumentElement(), "packaging");
      if (packaging == null || packaging.equals("jar")) {
        if (!m.equals("pods-examples")) { // examples and the demo: nothing a host application depends on
          published.add(m);
        }
      }
    }

    Document bom = parse(ROOT.resolve("pods-bom/pom.xml"));
    assertThat(child(bom.getDocumentElement(), "version")).isEqualTo(version);
    assertThat(bom.getDocumentElement().getElementsByTagName("parent").getLength())
        .as("the BOM has no parent: importing it must not bring the versions pods builds with").isZero();
    List<String> listed = new ArrayList<>();
    NodeList deps = bom.getElementsByTagName("dependency");
    for (int i = 0; i < deps.getLength(); i++) {
      Element d = (Element) deps.item(i);
      assertThat(child(d, "groupId")).isEqualTo("dev.pods");
      assertThat(child(d, "version")).isEqualTo(version);
      listed.add(child(d, "artifactId"));
    }
    assertThat(listed).containsExactlyInAnyOrderElementsOf(published);
  }

  @Test
  void theLicenceIsShippedAndDeclared() throws Exception {
    assertThat(Files.readString(ROOT.resolve("LICENSE"))).contains("Apache License", "Version 2.0, January 2004");
    Document parent = parse(ROOT.resolve("pom.xml"));
    assertThat(parent.getElementsByTagName("license").getLength()).isEqualTo(1);
    assertThat(child((Element) parent.getElementsByTagName("license").item(0), "name")).isEqualTo("Apache-2.0");
  }

  private static Document parse(Path p) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    return f.newDocumentBuilder().parse(p.toFile());
  }

  /** The text of {@code e}'s direct child named {@code name}, or null. */
  private static String child(Element e, String name) {
    for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element c && c.getTagName().equals(name)) {
        return c.getTextContent().trim();
      }
    }
    return null;
  }
}
