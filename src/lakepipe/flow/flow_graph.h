#pragma once

// `lakepipe flow graph`: a flow's stages, tasks and inputs as a Mermaid flowchart or a
// Graphviz digraph, for a renderer such as kroki. Every name in them comes from the flow
// file, so labels are escaped for the format and node ids are made here, never from names.

#include <string>
#include <utility>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/flow/flow_config.h"

namespace lakepipe::flow {

/// One box of the graph: a task, or something a task reads from outside the flow.
struct GraphNode {
  std::string id;     ///< "task0_1" (stage 0, task 1), "source2": safe in both formats
  std::string label;  ///< as the flow file writes it; escaped only when rendered
};

struct GraphStage {
  std::string id;  ///< "stage0"
  std::string name;
  std::vector<GraphNode> tasks;
};

/// A flow's tasks grouped by stage, its external sources (Task::ExternalSources, one node
/// for each different one) and an edge from every input to the task reading it.
struct FlowGraph {
  std::vector<GraphStage> stages;
  std::vector<GraphNode> sources;
  std::vector<std::pair<std::string, std::string>> edges;  ///< (from id, to id), in file order
};

/// The graph of `config`, its inputs resolved as for a run (ResolveTaskInputs): an input
/// naming no task, or a cycle, is its error. A local path of a source is shown relative to
/// the flow's folder when it is under it.
arrow::Result<FlowGraph> BuildFlowGraph(const FlowConfig& config);

/// `flowchart LR` with a subgraph per stage.
std::string RenderMermaid(const FlowGraph& graph);

/// A `digraph` with a cluster per stage.
std::string RenderDot(const FlowGraph& graph);

/// The graph of `config` in `format` ("mermaid" or "dot"; another is Invalid).
arrow::Result<std::string> FlowGraphText(const FlowConfig& config, const std::string& format);

}  // namespace lakepipe::flow
