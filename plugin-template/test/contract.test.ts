import { lineTcpPeer, runPluginContractSuite } from "portico/testing";
import { lineManifest } from "../src/index.js";

// The contract every Portico plugin keeps, run against this one with a plain line-based TCP client.
runPluginContractSuite({ manifest: lineManifest, peer: lineTcpPeer() });
