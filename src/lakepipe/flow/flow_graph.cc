#include "lakepipe/flow/flow_graph.h"

#include <filesystem>
#include <map>

#include <arrow/util/utf8.h>
#include <fmt/format.h>

#include "lakepipe/common/error_subject.h"
#include "lakepipe/flow/task_graph.h"

namespace lakepipe::flow {
namespace {

/// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD, so a
/// renderer never meets broken text (YAML escapes can make any byte).
std::string ValidUtf8(const std::string& text) {
  arrow::util::InitializeUTF8();
  if (arrow::util::ValidateUTF8(text)) return text;
  std::string out;
  for (size_t i = 0; i < text.size();) {
    // The sequence's length by its lead byte; the validator then checks the whole of it.
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    if (lead < 0x80) {
      length = 1;
    } else if ((lead & 0xe0) == 0xc0) {
      length = 2;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4;
    }
    if (length > 0 && i + length <= text.size() &&
        arrow::util::ValidateUTF8(std::string_view(text).substr(i, length))) {
      out.append(text, i, length);
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

/// Text inside a Mermaid "quoted label": a quote would end it, '#' starts an entity code
/// (#quot;), "%%{" a directive anywhere in the text, '<' '>' '&' would be HTML and a
/// leading '`' Markdown, so each of these is an entity code; a line break is <br>, other control characters their code.
std::string MermaidText(const std::string& text) {
  std::string out;
  for (const char c : ValidUtf8(text)) {
    switch (c) {
      case '"':
        out += "#quot;";
        break;
      case '#':
        out += "#35;";
        break;
      case '%':
        out += "#37;";
        break;
      case '&':
        out += "#amp;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      case '`':
        out += "#96;";
        break;
      case '\n':
        out += "<br>";
        break;
      default:
        if (IsControl(static_cast<unsigned char>(c))) {
          out += fmt::format("#{};", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

/// Text inside a Graphviz "quoted string" used as a label: '"' and '\' escaped (Graphviz
/// reads \N, \G, \l... in labels), '&' as &amp; (it reads HTML entities in labels too), a
/// line break as \n, other control characters as their entity.
std::string DotText(const std::string& text) {
  std::string out;
  for (const char c : ValidUtf8(text)) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '&':
        out += "&amp;";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (IsControl(static_cast<unsigned char>(c))) {
          out += fmt::format("&#{};", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

/// A source's name as shown: a local path under the flow's folder relative to it.
std::string Shown(const ExternalSource& source, const std::string& dir) {
  if (!source.local_path || dir.empty()) return source.name;
  const auto relative = std::filesystem::path(source.name).lexically_relative(dir);
  if (relative.empty() || *relative.begin() == "..") return source.name;
  return relative.string();
}

/// `status` naming the flow file: in front of its message, or only recorded when the
/// message names it already (a task's errors say "(file:line)").
arrow::Status NamingFile(const arrow::Status& status, const FlowConfig& config) {
  auto named = Naming(status, Subject::Flow(config.name));
  if (named.message().find(config.file) != std::string::npos) {
    return Naming(named, Subject::Uri(config.file));
  }
  return WithSubject(named, Subject::Uri(config.file));
}

}  // namespace

arrow::Result<FlowGraph> BuildFlowGraph(const FlowConfig& config) {
  FlowConfig resolved = config;
  ARROW_RETURN_NOT_OK(NamingFile(ResolveTaskInputs(&resolved), config));
  FlowGraph graph;
  std::map<std::pair<std::string, std::string>, std::string> task_ids;  // (stage, table)
  for (size_t s = 0; s < resolved.stages.size(); ++s) {
    const auto& stage = resolved.stages[s];
    GraphStage out{fmt::format("stage{}", s), stage.name, {}};
    for (size_t t = 0; t < stage.tasks.size(); ++t) {
      GraphNode node{fmt::format("task{}_{}", s, t), stage.tasks[t].name};
      task_ids[{stage.name, node.label}] = node.id;
      out.tasks.push_back(std::move(node));
    }
    graph.stages.push_back(std::move(out));
  }
  std::map<std::pair<std::string, std::string>, std::string> source_ids;  // (kind, shown)
  for (size_t s = 0; s < resolved.stages.size(); ++s) {
    const auto& stage = resolved.stages[s];
    for (size_t t = 0; t < stage.tasks.size(); ++t) {
      const auto& task = stage.tasks[t];
      const std::string& to = graph.stages[s].tasks[t].id;
      for (const auto& source : task.kind->ExternalSources()) {
        const std::string shown = Shown(source, resolved.dir);
        auto [it, added] = source_ids.emplace(std::pair{source.kind, shown}, "");
        if (added) {
          it->second = fmt::format("source{}", graph.sources.size());
          graph.sources.push_back({it->second, source.kind + ": " + shown});
        }
        graph.edges.emplace_back(it->second, to);
      }
      for (const auto& ref : task.inputs) {
        // Resolved inputs are spelled as the flow spells its stages and tasks.
        auto it = task_ids.find({ref.stage, ref.table});
        if (it == task_ids.end()) {
          return NamingFile(arrow::Status::Invalid(fmt::format(
                                "flow '{}', stage '{}', task '{}': '{}' names no task",
                                resolved.name, stage.name, task.name, ref.ToString())),
                            config);
        }
        graph.edges.emplace_back(it->second, to);
      }
    }
  }
  return graph;
}

std::string RenderMermaid(const FlowGraph& graph) {
  std::string out = "flowchart LR\n";
  for (const auto& stage : graph.stages) {
    out += fmt::format("  subgraph {}[\"{}\"]\n", stage.id, MermaidText(stage.name));
    for (const auto& task : stage.tasks) {
      out += fmt::format("    {}[\"{}\"]\n", task.id, MermaidText(task.label));
    }
    out += "  end\n";
  }
  // A cylinder: data from outside the flow.
  for (const auto& source : graph.sources) {
    out += fmt::format("  {}[(\"{}\")]\n", source.id, MermaidText(source.label));
  }
  for (const auto& [from, to] : graph.edges) out += fmt::format("  {} --> {}\n", from, to);
  return out;
}

std::string RenderDot(const FlowGraph& graph) {
  std::string out = "digraph flow {\n  rankdir=LR;\n  node [shape=box];\n";
  for (const auto& stage : graph.stages) {
    // Graphviz draws a subgraph as a box only when its id starts with "cluster".
    out += fmt::format("  subgraph cluster_{} {{\n    label=\"{}\";\n", stage.id,
                       DotText(stage.name));
    for (const auto& task : stage.tasks) {
      out += fmt::format("    {} [label=\"{}\"];\n", task.id, DotText(task.label));
    }
    out += "  }\n";
  }
  for (const auto& source : graph.sources) {
    out += fmt::format("  {} [label=\"{}\", shape=cylinder];\n", source.id,
                       DotText(source.label));
  }
  for (const auto& [from, to] : graph.edges) out += fmt::format("  {} -> {};\n", from, to);
  out += "}\n";
  return out;
}

arrow::Result<std::string> FlowGraphText(const FlowConfig& config, const std::string& format) {
  if (format != "mermaid" && format != "dot") {
    return arrow::Status::Invalid(
        fmt::format("graph format '{}': use mermaid or dot", ValidUtf8(format)));
  }
  ARROW_ASSIGN_OR_RAISE(auto graph, BuildFlowGraph(config));
  return format == "dot" ? RenderDot(graph) : RenderMermaid(graph);
}

}  // namespace lakepipe::flow
