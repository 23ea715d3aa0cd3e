// The rules `wsgate model` serves without --gates: the messages of wsgate's own default gates (gates.yaml),
// each answered the way a model with the agent-backend tools would: "Create a X file with 'Y'" calls
// write_file, "Read X" read_file, and so on, then a closing sentence once the tool's result is back.
// Tool inputs use the parameter names of the agent-backend protocol's tools. A message may follow lines
// of context a backend puts before it ((?:^|\n)), as long as it starts a line.
import type { ModelSectionInput } from '../gates/model-section.ts';

export const DEFAULT_MODEL_SECTION: ModelSectionInput = {
  rules: [
    {
      name: 'write a file',
      when: { user: { regex: "Create an? (?<path>\\S+) file with '(?<content>[^']*)'" } },
      text: 'I will create $<path>.',
      call: { tool: 'write_file', input: { path: '$<path>', content: '$<content>' } },
      then: { text: 'Created $<path>.' },
    },
    {
      name: 'read a file',
      when: { user: { regex: '(?:^|\\n)Read (?<path>\\S+)' } },
      call: { tool: 'read_file', input: { path: '$<path>' } },
      then: { text: 'That is the content of $<path>.' },
    },
    {
      name: 'list files',
      when: { user: { regex: '(?:^|\\n)List files' } },
      call: { tool: 'list_files', input: { path: '.' } },
      then: { text: 'Those are the files of the project.' },
    },
    {
      name: 'run a command',
      when: { user: { regex: '(?:^|\\n)Run `(?<command>[^`]+)`' } },
      call: { tool: 'execute_command', input: { command: '$<command>' } },
      then: { text: 'The command ran.' },
    },
    {
      name: 'git status',
      when: { user: { regex: '(?:^|\\n)Git status' } },
      call: { tool: 'git_status', input: {} },
      then: { text: 'That is the status of the repository.' },
    },
    {
      name: 'git commit',
      when: { user: { regex: "(?:^|\\n)Commit all changes with message '(?<message>[^']*)'" } },
      call: { tool: 'git_commit', input: { message: '$<message>' } },
      then: { text: 'Committed.' },
    },
    {
      name: 'search',
      when: { user: { regex: "(?:^|\\n)Search for '(?<pattern>[^']*)'" } },
      call: { tool: 'search_files', input: { pattern: '$<pattern>' } },
      then: { text: 'Those are the matches.' },
    },
    {
      name: 'git diff',
      when: { user: { regex: '(?:^|\\n)Git diff' } },
      call: { tool: 'git_diff', input: {} },
      then: { text: 'That is the diff.' },
    },
    {
      name: 'git log',
      when: { user: { regex: '(?:^|\\n)Show the last \\d+ commits' } },
      call: { tool: 'git_log', input: { count: 3 } },
      then: { text: 'Those are the last commits.' },
    },
    {
      name: 'greeting',
      when: { user: { regex: '(?:^|\\n)(Hello|Hi)\\b' } },
      text: 'Hello! I am a stand-in for a model, answering from the rules of a gates file. I can read, write and list files, run commands and use git in this project.',
    },
  ],
  fallback: 'I am a stand-in for a model and have no rule for that message.',
};
