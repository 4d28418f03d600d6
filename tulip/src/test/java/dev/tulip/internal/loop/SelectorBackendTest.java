package dev.tulip.internal.loop;

/** The backend contract against the java.nio Selector backend. */
class SelectorBackendTest extends IoBackendContractTest {
    @Override
    String backend() {
        return "nio";
    }
}
