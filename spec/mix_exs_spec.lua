-- app_name read from mix.exs as Mix reads it: the `app:` of the keyword
-- list project/0 returns (or, in an umbrella, the release mix_systemd
-- picks). Every other `app:` in the file is a decoy: in comments,
-- heredocs, strings, sigils, char literals, nested lists, other
-- functions. What cannot be read is an error, never a guess.
local uf = require("uf")

-- A mix.exs as `mix new foo_bar` writes it. `before` goes above the
-- module, `attrs` at the top of its body, `first` into project/0's list
-- ahead of `app:`, `funs` after project/0.
local function mix_exs(t)
  return table.concat({
    t.before or "",
    "defmodule FooBar.MixProject do\n",
    "  use Mix.Project\n\n",
    t.attrs or "",
    "  def project do\n",
    "    [\n",
    t.first or "",
    "      app: :foo_bar,\n",
    '      version: "0.1.0",\n',
    '      elixir: "~> 1.14",\n',
    "      start_permanent: Mix.env() == :prod,\n",
    "      deps: deps()\n",
    "    ]\n",
    "  end\n\n",
    t.funs or "",
    "  defp deps do\n    []\n  end\n",
    "end\n",
  })
end

-- Runs unitforge with `args` beside `text` as mix.exs and a deploy.lua
-- that sets no app_name.
local function run(text, args)
  local dir = uf.project("return {}", { ["mix.exs"] = text })
  local r = uf.run(args, dir)
  r.wrote = uf.exists(dir .. "/_build")
  uf.rm(dir)
  return r
end

-- The unit runs bin/<release_name>, and release_name is app_name: with
-- nothing set in the config, that is the name read from mix.exs. (`show`
-- would say so directly, but runs systemd-analyze: see the origin specs.)
local function assert_app_name(expected, text)
  local r = run(text, { "deploy.lua", "--stdout" })
  assert.are.equal(0, r.code, r.stderr)
  assert.are.equal(expected, r.stdout:match("\nExecStart=/srv/[^/\n]+/current/bin/([^ \n]+) start\n"), r.stdout)
end

local function assert_origin(expected, text)
  local r = run(text, { "show", "deploy.lua" })
  assert.are.equal(0, r.code, r.stderr)
  assert.truthy(r.stdout:match('\napp_name +%= "' .. expected .. '"  %(mix%.exs%)\n'), r.stdout)
end

-- Generating must stop at app_name, with nothing written.
local function assert_unreadable(text)
  local r = run(text, { "deploy.lua" })
  assert.are.equal(1, r.code, r.stdout)
  assert.truthy(r.stderr:find("deploy.lua: app_name: not set, and ", 1, true), r.stderr)
  assert.truthy(r.stderr:find("mix.exs", 1, true), r.stderr)
  assert.are.equal("", r.stdout)
  assert.falsy(r.wrote)
end

-- Each hides `app: :wrong...` ahead of the real `app: :foo_bar`, so the
-- first `app:` of the text is never the answer.
local DECOYS = {
  comments = {
    { "above the module", { before = "# app: :wrong\n" } },
    { "in the list", { first = "      # app: :wrong,\n" } },
    { "after `do` on the same line", { attrs = "  def other do # app: :wrong\n    :ok\n  end\n\n" } },
    { "holding a quote and a bracket", { first = '      # don\'t "quote [ or app: :wrong\n' } },
    { "holding a commented-out project", { attrs = "  # def project do\n  #   [app: :wrong]\n  # end\n\n" } },
    { "beside a NUL byte", { before = "# \0 app: :wrong\n" } },
    { "holding UTF-8", { before = "# caf\xc3\xa9 \xf0\x9f\x98\x80 app: :wrong\n" } },
  },
  heredocs = {
    { "@moduledoc", { attrs = '  @moduledoc """\n  Set app: :wrong here.\n  """\n\n' } },
    { "@moduledoc with a mid-line \"\"\"", { attrs = '  @moduledoc """\n  End with `"""` on a line. app: :wrong\n  """\n\n' } },
    { "charlist heredoc", { attrs = "  @help '''\n  app: :wrong\n  '''\n\n" } },
    { "interpolating a string", { attrs = '  @moduledoc """\n  #{"\\"\\"\\""} app: :wrong\n  """\n\n' } },
    { "indented closing", { attrs = '  @moduledoc """\n    app: :wrong\n    """\n\n' } },
  },
  strings = {
    { "plain", { first = '      description: "app: :wrong",\n' } },
    { "with escaped quotes", { first = '      description: "a \\" app: :wrong \\\\",\n' } },
    { "interpolating a `}` string", { first = '      description: "x#{"}"} app: :wrong",\n' } },
    { "interpolating nested strings and maps", { first = '      name: "#{Map.get(%{"a" => "}\\""}, "a")} app: :wrong",\n' } },
    { "charlist", { first = "      description: 'app: :wrong',\n" } },
    { "quoted keyword", { first = '      "app: :wrong": true,\n' } },
    { "quoted atom", { first = '      cookie: :"app: :wrong",\n' } },
  },
  sigils = {
    { "~s(...)", { first = "      x: ~s(app: :wrong),\n" } },
    { "~S\"...\"", { first = '      x: ~S"app: :wrong #{",\n' } },
    { "~r/.../i", { first = "      x: ~r/app: :wrong/i,\n" } },
    { "~w[...]a", { first = "      x: ~w[app: :wrong]a,\n" } },
    { "~c<...>", { first = "      x: ~c<app: :wrong>,\n" } },
    { "~s|...|", { first = "      x: ~s|app: :wrong|,\n" } },
    { "~s{...}", { first = "      x: ~s{app: :wrong},\n" } },
    { "~s'...'", { first = "      x: ~s'app: :wrong',\n" } },
    { "~s(...) with an escaped close", { first = "      x: ~s(a\\) app: :wrong),\n" } },
    { "~s(...) holding a quote", { first = '      x: ~s(" app: :wrong "),\n' } },
    { "~S\"\"\" heredoc", { attrs = '  @doc ~S"""\n  "#{app}" app: :wrong\n  """\n  def x, do: 1\n\n' } },
  },
  ["char literals"] = {
    { "?\" before a string", { first = '      quote: ?", note: "app: :wrong",\n' } },
    { "?' before a charlist", { first = "      quote: ?', note: 'app: :wrong',\n" } },
    { "?# before the real app", { first = '      note: "app: :wrong", hash: ?#,\n' } },
    { "?[ and ?{", { first = '      note: "app: :wrong", open: [?[, ?{],\n' } },
    { "?\\\" and ?\\\\", { first = '      chars: [?\\", ?\\\\], note: "app: :wrong",\n' } },
  },
  ["nested lists"] = {
    { "deps", { first = '      deps: [{:sibling, path: "../sibling", app: :wrong}],\n' } },
    { "releases", { first = "      releases: [demo: [applications: [app: :wrong]]],\n" } },
    { "docs", { first = '      docs: [extras: ["README.md": [app: :wrong]]],\n' } },
    { "a map", { first = "      env: %{app: :wrong},\n" } },
    { "a do block", { first = "      flags: (if true do [app: :wrong] else [] end),\n" } },
  },
  ["other functions"] = {
    { "defp before project", { attrs = "  defp legacy do\n    [app: :wrong]\n  end\n\n" } },
    { "project/1 before project/0", { attrs = "  def project(:old), do: [app: :wrong]\n\n" } },
    { "a nested module's project/0", {
      attrs = "  defmodule Old do\n    def project do\n      [app: :wrong]\n    end\n  end\n\n" } },
    { "project/0 inside a quote", { attrs = "  defmacro x do\n    quote do\n      def project, do: [app: :wrong]\n    end\n  end\n\n" } },
    { "an anonymous function", { attrs = "  @f fn -> [app: :wrong] end\n\n" } },
    { "a module above that does not use Mix.Project", {
      before = "defmodule Helper do\n  def project, do: [app: :wrong]\nend\n\n" } },
  },
}

describe("mix.exs app name", function()
  local classes = {}
  for class in pairs(DECOYS) do classes[#classes + 1] = class end
  table.sort(classes)
  for _, class in ipairs(classes) do
    describe("ignores `app:` in " .. class, function()
      for _, case in ipairs(DECOYS[class]) do
        it(case[1], function() assert_app_name("foo_bar", mix_exs(case[2])) end)
      end
    end)
  end
end)

-- Modelled on public projects' mix.exs files (cited per case).
local REAL = {
  -- What `mix phx.new hello` generates (phoenixframework/phoenix,
  -- installer/templates/phx_single/mix.exs).
  { "a Phoenix generator mix.exs", "hello", [==[
defmodule Hello.MixProject do
  use Mix.Project

  def project do
    [
      app: :hello,
      version: "0.1.0",
      elixir: "~> 1.14",
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: Mix.env() == :prod,
      aliases: aliases(),
      deps: deps()
    ]
  end

  # Configuration for the OTP application.
  #
  # Type `mix help compile.app` for more information.
  def application do
    [
      mod: {Hello.Application, []},
      extra_applications: [:logger, :runtime_tools]
    ]
  end

  # Specifies which paths to compile per environment.
  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  defp deps do
    [
      {:phoenix, "~> 1.7.10"},
      {:phoenix_ecto, "~> 4.4"},
      {:ecto_sql, "~> 3.10"},
      {:postgrex, ">= 0.0.0"},
      {:phoenix_html, "~> 3.3"},
      {:phoenix_live_reload, "~> 1.2", only: :dev},
      {:phoenix_live_view, "~> 0.20.1"},
      {:floki, ">= 0.30.0", only: :test},
      {:esbuild, "~> 0.8", runtime: Mix.env() == :dev},
      {:tailwind, "~> 0.2.0", runtime: Mix.env() == :dev},
      {:heroicons,
       github: "tailwindlabs/heroicons",
       tag: "v2.1.1",
       sparse: "optimized",
       app: false,
       compile: false,
       depth: 1},
      {:jason, "~> 1.2"},
      {:plug_cowboy, "~> 2.5"}
    ]
  end

  # Aliases are shortcuts or tasks specific to the current project.
  defp aliases do
    [
      setup: ["deps.get", "ecto.setup", "assets.setup", "assets.build"],
      "ecto.setup": ["ecto.create", "ecto.migrate", "run priv/repo/seeds.exs"],
      "ecto.reset": ["ecto.drop", "ecto.setup"],
      test: ["ecto.create --quiet", "ecto.migrate --quiet", "test"],
      "assets.setup": ["tailwind.install --if-missing", "esbuild.install --if-missing"],
      "assets.build": ["tailwind default", "esbuild default"],
      "assets.deploy": ["tailwind default --minify", "esbuild default --minify", "phx.digest"]
    ]
  end
end
]==] },
  -- mix_systemd's own (cogini/mix_systemd, mix.exs at 0.8.2): attributes,
  -- commented-out keys, `##{...}` with strings inside the interpolation.
  { "mix_systemd's own mix.exs", "mix_systemd", [==[
defmodule MixSystemd.MixProject do
  use Mix.Project

  @github "https://github.com/cogini/mix_systemd"
  @version "0.8.2"

  def project do
    [
      app: :mix_systemd,
      version: @version,
      elixir: "~> 1.12",
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: Mix.env() == :prod,
      aliases: aliases(),
      dialyzer: [
        plt_add_apps: [:mix, :eex]
        # plt_add_deps: true,
        # flags: ["-Werror_handling", "-Wrace_conditions"],
      ],
      test_coverage: [tool: ExCoveralls],
      description: description(),
      package: package(),
      source_url: @github,
      docs: docs(),
      deps: deps()
    ]
  end

  def application do
    [extra_applications: [:logger, :eex]]
  end

  def cli do
    [preferred_envs: [coveralls: :test, "coveralls.html": :test, quality: :test]]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  defp deps do
    [
      {:credo, "~> 1.6", only: [:dev, :test], runtime: false},
      {:ex_doc, "~> 0.40.0", only: :dev, runtime: false}
    ]
  end

  defp description do
    "Generate systemd unit files for an application."
  end

  defp package do
    [
      maintainers: ["Jake Morrison"],
      licenses: ["Apache-2.0"],
      links: %{
        "GitHub" => @github,
        "Changelog" =>
          "#{@github}/blob/#{@version}/CHANGELOG.md##{String.replace(@version, ".", "")}"
      }
    ]
  end

  defp docs do
    [
      main: "readme",
      extras: ["README.md", "CHANGELOG.md": [title: "Changelog"]],
      source_url_pattern: "#{@github}/blob/master/%{path}#L%{line}"
    ]
  end

  defp aliases do
    [setup: ["deps.get"], quality: ["test", "format --check-formatted", "credo"]]
  end
end
]==] },
  -- A Nerves firmware project (public Radio.MixProject): `@app`, and a
  -- release named by `{@app, release()}`.
  { "a Nerves project with @app", "radio", [==[
defmodule Radio.MixProject do
  use Mix.Project

  @app :radio
  @version "0.1.0"
  @all_targets [:hifiberry_rpi0]

  def project do
    [
      app: @app,
      version: @version,
      elixir: "~> 1.9",
      archives: [nerves_bootstrap: "~> 1.9"],
      compilers: [:phoenix, :gettext] ++ Mix.compilers(),
      start_permanent: Mix.env() == :prod,
      build_embedded: true,
      aliases: [loadconfig: [&bootstrap/1]],
      deps: deps(),
      releases: [{@app, release()}],
      preferred_cli_target: [run: :host, test: :host]
    ]
  end

  def bootstrap(args) do
    Application.start(:nerves_bootstrap)
    Mix.Task.run("loadconfig", args)
  end

  def application do
    [mod: {Radio.Application, []}, extra_applications: [:logger, :runtime_tools]]
  end

  defp deps do
    [
      {:nerves, "~> 1.6.3", runtime: false},
      {:nerves_runtime, "~> 0.11.3", targets: @all_targets},
      {:hifiberry_rpi0, path: "../hifiberry_rpi0", runtime: false, targets: :hifiberry_rpi0}
    ]
  end

  def release do
    [
      overwrite: true,
      cookie: "#{@app}_cookie",
      include_erts: &Nerves.Release.erts/0,
      steps: [&Nerves.Release.init/1, :assemble],
      strip_beams: Mix.env() == :prod
    ]
  end
end
]==] },
  -- An SDK's mix.exs that loads a helper in a block above the module.
  { "@app with a top-level block above the module", "cursor_cli_sdk", [==[
unless Code.ensure_loaded?(DependencySources) do
  Code.require_file("build_support/dependency_sources.exs", __DIR__)
end

defmodule CursorCliSdk.MixProject do
  use Mix.Project

  @app :cursor_cli_sdk
  @version "0.1.0"
  @source_url "https://github.com/nshkrdotcom/cursor_cli_sdk"

  def project do
    [
      app: @app,
      version: @version,
      elixir: "~> 1.18",
      deps: deps(),
      name: "CursorCliSdk",
      source_url: @source_url
    ]
  end

  defp deps, do: []
end
]==] },
  -- An umbrella with literal releases (as in public Protohackers and
  -- greensync umbrellas): the first release names it.
  { "an umbrella with literal releases", "smoke_test", [==[
defmodule Protohackers.MixProject do
  use Mix.Project

  def project do
    [
      apps_path: "apps",
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: deps(),
      releases: [
        smoke_test: [
          applications: [smoke_test: :permanent]
        ],
        prime_time: [
          applications: [prime_time: :permanent]
        ]
      ]
    ]
  end

  # Dependencies listed here are available only for this
  # project and cannot be accessed from applications inside
  # the apps folder.
  defp deps do
    []
  end
end
]==] },
  -- An umbrella with releases() (public Bytepack umbrella).
  { "an umbrella with defp releases()", "bytepack", [==[
defmodule Bytepack.Umbrella.MixProject do
  use Mix.Project

  def project() do
    [
      apps_path: "apps",
      version: "0.1.0",
      start_permanent: Mix.env() == :prod,
      aliases: aliases(),
      releases: releases()
    ]
  end

  defp aliases() do
    [
      setup: ["cmd mix setup"]
    ]
  end

  defp releases() do
    [
      bytepack: [
        applications: [bytepack_web: :permanent]
      ]
    ]
  end
end
]==] },
  -- An umbrella whose releases function uses `, do:` over lines (public
  -- DTask umbrella), with a commented-out `app:`.
  { "an umbrella with `defp releases, do: [...]`", "ctrl", [==[
defmodule DTaskUmbrella.MixProject do
  use Mix.Project

  def project do
    [
      # app: :dtask_umbrella,
      apps_path: "apps",
      version: "0.2.0",
      start_permanent: Mix.env() == :prod,
      deps: deps(),
      releases: releases()
    ]
  end

  defp deps do
    [{:dialyxir, "~> 1.1.0", only: [:dev], runtime: false}]
  end

  defp releases, do: [
    ctrl: release_app(:dtask_controller),
    exec: release_app(:dtask_runner)
  ]

  defp release_app(app), do: [applications: [{app, :permanent}]]
end
]==] },
  { "an umbrella with `def releases do`", "my_rel", [==[
defmodule Umbrella.MixProject do
  use Mix.Project

  def project do
    [apps_path: "apps", releases: releases(), deps: []]
  end

  def releases(:unused), do: [wrong: []]

  def releases do
    [my_rel: [applications: [web: :permanent]], other: []]
  end
end
]==] },
  { "an umbrella's default_release over its first release", "web", [==[
defmodule Shop.Umbrella.MixProject do
  use Mix.Project

  def project do
    [
      apps_path: "apps",
      default_release: :web,
      releases: [all: [applications: [core: :permanent]], web: [applications: [web: :permanent]]]
    ]
  end
end
]==] },
  { "an umbrella with releases from an attribute", "edge", [==[
defmodule Edge.Umbrella.MixProject do
  use Mix.Project

  @releases [edge: [applications: [edge: :permanent]]]

  def project, do: [apps_path: "apps", releases: @releases]
end
]==] },
  { "app: over releases outside an umbrella", "vera", [==[
defmodule Vera.MixProject do
  use Mix.Project

  def project do
    [app: :vera, version: "0.1.0", releases: releases()]
  end

  defp releases do
    [vera_release: [include_erts: true]]
  end
end
]==] },
  { "the last @app before project/0", "foo_bar", [==[
defmodule FooBar.MixProject do
  use Mix.Project
  @app :wrong
  @app :foo_bar
  @name @app
  def project, do: [app: @app, name: @name]
  @app :wrong_later
end
]==] },
  { "`def project, do:` on one line", "foo_bar",
    'defmodule FooBar.MixProject do\n  use Mix.Project\n  def project, do: [app: :foo_bar]\nend\n' },
  { "`def project(), do:` with `;`", "foo_bar",
    'defmodule FooBar.MixProject do use Mix.Project; def project(), do: [app: :foo_bar]; end\n' },
  { "a quoted keyword", "foo_bar",
    'defmodule FooBar.MixProject do\n  use Mix.Project\n  def project do\n    ["app": :foo_bar]\n  end\nend\n' },
  { "a quoted atom", "foo_bar",
    'defmodule FooBar.MixProject do\n  use Mix.Project\n  def project do\n    [app: :"foo_bar"]\n  end\nend\n' },
  { "CRLF line ends", "foo_bar",
    'defmodule FooBar.MixProject do\r\n  use Mix.Project\r\n  def project do\r\n    [app: :foo_bar]\r\n  end\r\nend\r\n' },
}

describe("mix.exs app name", function()
  for _, case in ipairs(REAL) do
    it("reads " .. case[1], function() assert_app_name(case[2], case[3]) end)
  end

  it("shows mix.exs as the origin, for a project and an umbrella", function()
    assert_origin("hello", REAL[1][3])
    assert_origin("smoke_test", REAL[5][3])
  end)

  it("names the unit after it", function()
    local r = run(REAL[1][3], { "deploy.lua", "--stdout" })
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find("Description=hello service\n", 1, true), r.stdout)
    assert.truthy(r.stdout:find("\nExecStart=/srv/hello/current/bin/hello start\n", 1, true), r.stdout)
  end)
end)

-- Each gets a `# app: :foo_bar` line appended, which a text search
-- would take.
local UNREADABLE = {
  { "a bare keyword list, no module", "[app: :foo_bar]" },
  { "no def project", 'defmodule FooBar.MixProject do\n  def application, do: [app: :foo_bar]\nend\n' },
  { "app: from a function", mix_exs({ first = "      app: app_name(), # app: :foo_bar\n" }) },
  { "app: from a variable", 'defmodule FooBar.MixProject do\n  def project do\n'
    .. '    app = :foo_bar\n    [app: app]\n  end\nend\n' },
  { "app: a string", (mix_exs({ first = '      app: "foo_bar",\n' }):gsub("app: :foo_bar,\n", "", 1)) },
  { "app: an expression", mix_exs({ first = '      app: String.to_atom("foo_bar"),\n' }) },
  { "app: an atom with more after it", 'defmodule X do\n  def project, do: [app: :foo_bar\n    |> other()]\nend\n' },
  { "app: an undefined @attr", mix_exs({ first = "      app: @app,\n" }) },
  { "app: an @attr set after project/0", mix_exs({ first = "      app: @app,\n", funs = "  @app :foo_bar\n" }) },
  { "app: an interpolated atom", mix_exs({ first = '      app: :"foo_#{1}",\n' }) },
  { "an interpolated key", mix_exs({ first = '      "a#{"pp"}": :foo_bar,\n' }) },
  { "a list joined to another", 'defmodule X do\n  def project do\n    [app: :foo_bar] ++ extra()\n  end\nend\n' },
  { "a list piped on the next line", 'defmodule X do\n  def project, do: [app: :foo_bar]\n'
    .. '  |> Keyword.merge(x: 1)\nend\n' },
  { "an unclosed bracket", mix_exs({ first = "      deps: [\n" }) },
  { "a stray closing bracket", mix_exs({ first = "      deps: []],\n" }) },
  { "a mismatched block", mix_exs({ funs = "  defp x do\n    [)\n  end\n" }) },
  { "a missing end", (mix_exs({}):gsub("end\n$", "")) },
  { "an unterminated string", mix_exs({ funs = '  defp x, do: "oops\n' }) },
  { "an unterminated heredoc", mix_exs({ funs = '  @doc """\n  oops "" \n' }) },
  { "text after an opening \"\"\"", mix_exs({ attrs = '  @moduledoc """ app: :foo_bar\n  """\n' }) },
  { "no use Mix.Project", (mix_exs({}):gsub("  use Mix.Project\n", "")) },
  { "an unterminated sigil", mix_exs({ funs = "  defp x, do: ~r/oops\n" }) },
  { "an unterminated interpolation", mix_exs({ funs = '  defp x, do: "#{oops"\n' }) },
  { "a name with a space", (mix_exs({}):gsub("app: :foo_bar", 'app: :"foo bar"')) },
  { "an umbrella without releases", 'defmodule U do\n  def project, do: [apps_path: "apps"]\nend\n' },
  { "an umbrella with no release in its list", 'defmodule U do\n  def project, do: [apps_path: "apps", releases: []]\nend\n' },
  { "releases outside an umbrella", 'defmodule U do\n  def project, do: [releases: [foo_bar: []]]\nend\n' },
  { "releases from a function with arguments", 'defmodule U do\n  def project, do: [apps_path: "a", releases: rel(1)]\n'
    .. '  defp rel(_), do: [foo_bar: []]\nend\n' },
  { "releases from a missing function", 'defmodule U do\n  def project, do: [apps_path: "a", releases: rel()]\nend\n' },
  { "releases from a function that computes them", 'defmodule U do\n  def project, do: [apps_path: "a", releases: rel()]\n'
    .. '  defp rel, do: Enum.map([:foo_bar], &{&1, []})\nend\n' },
  { "a release list starting with a tuple", 'defmodule U do\n'
    .. '  def project, do: [apps_path: "a", releases: [{:foo_bar, []}]]\nend\n' },
  { "an over-long name", (mix_exs({}):gsub("foo_bar", ("x"):rep(300), 1)) },
  { "NUL bytes in the name", (mix_exs({}):gsub("app: :foo_bar", "app: :foo\0bar")) },
  { "a control byte between tokens", (mix_exs({}):gsub("app: :foo_bar,", "app: :foo_bar,\v")) },
  { "bytes that are not UTF-8, even in a comment", mix_exs({ before = "# caf\xe9\n" }) },
  { "an overlong UTF-8 form", mix_exs({ before = "# \xc0\xaf\n" }) },
}

describe("mix.exs that cannot be read", function()
  for _, case in ipairs(UNREADABLE) do
    it("is an app_name error: " .. case[1], function() assert_unreadable(case[2] .. "\n# app: :foo_bar\n") end)
  end

  it("is no error when the config sets app_name", function()
    local dir = uf.project('return { app_name = "shop" }', { ["mix.exs"] = UNREADABLE[4][2] })
    local r = uf.run({ "deploy.lua", "--stdout" }, dir)
    uf.rm(dir)
    assert.are.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find("Description=shop service\n", 1, true))
  end)
end)

-- A module body runs as it compiles, so it can make project/0 return
-- other than what its text says. In each case below a plain reading of
-- the text finds `:decoy` where Mix (1.14, `Mix.Project.in_project`)
-- sees `:real` or fails to load the project; all are app_name errors.
local function project_module(body, above)
  return (above or "") .. "defmodule Foo.MixProject do\n  use Mix.Project\n\n" .. body .. "end\n"
end

local function app_attr(between)
  return project_module("  @app :decoy\n" .. between .. "  def project, do: [app: @app, version: \"0.1.0\"]\n")
end

-- Defines `name` of `Helper` above the module: a macro whose expansion is
-- `body`.
local function helper_macro(name, body)
  return "defmodule Helper do\n  defmacro " .. name .. " do\n    quote do\n      " .. body
    .. "\n    end\n  end\nend\n\n"
end

local DECOY_PROJECT = "  def project, do: [app: :decoy]\n"

local UNSEEN = {
  ["an attribute set other than by a plain `@attr :atom` line"] = {
    { "by Module.put_attribute", app_attr("  Module.put_attribute(__MODULE__, :app, :real)\n") },
    { "by Module.register_attribute", app_attr("  Module.register_attribute(__MODULE__, :app, accumulate: true)\n  @app :real\n") },
    { "by Module.delete_attribute", app_attr("  Module.delete_attribute(__MODULE__, :app)\n") },
    { "in an if block", app_attr("  if true do\n    @app :real\n  end\n") },
    { "in a case clause", app_attr("  case true do\n    true -> @app :real\n  end\n") },
    { "in a for block", app_attr("  for _ <- [1] do\n    @app :real\n  end\n") },
    { "in an anonymous function", app_attr("  Enum.each([1], fn _ -> @app :real end)\n") },
    { "inside an expression", app_attr("  _ = @app :real\n") },
    { "through Kernel.@", app_attr("  Kernel.@(app(:real))\n") },
    { "in an interpolation", app_attr('  @note "#{@app :real}"\n') },
    { "on the line after `do:`", project_module("  @app :real\n  if false, do:\n    @app :decoy\n"
      .. "  def project, do: [app: @app]\n") },
    { "on the line after `&&`", project_module("  @app :real\n  false &&\n    @app :decoy\n"
      .. "  def project, do: [app: @app]\n") },
    { "to an expression", app_attr("  @app if true, do: :real, else: :decoy\n") },
    { "to an expression, then to an atom", project_module("  @app String.to_atom(\"real\")\n  @app :decoy\n"
      .. "  def project, do: [app: @app]\n") },
    { "a built-in attribute", project_module("  @external_resource :decoy\n  def project, do: [app: @external_resource]\n") },
    { "default_release in a block", project_module("  @rel :decoy\n  if true do\n    @rel :real\n  end\n"
      .. "  def project, do: [apps_path: \"apps\", default_release: @rel]\n") },
    { "releases in a block", project_module("  @releases [decoy: []]\n  if true do\n    @releases [real: []]\n  end\n"
      .. "  def project, do: [apps_path: \"apps\", releases: @releases]\n") },
  },
  ["a second definition of project/0"] = {
    { "after defoverridable", project_module("  def project, do: [app: :decoy]\n  defoverridable project: 0\n"
      .. "  def project, do: [app: :real]\n") },
    { "a second clause", project_module("  def project, do: [app: :real]\n  def project, do: [app: :decoy]\n") },
    { "a clause with a guard first", project_module("  def project when true, do: [app: :real]\n" .. DECOY_PROJECT) },
    { "Kernel.def", project_module("  Kernel.def(project(), do: [app: :real])\n" .. DECOY_PROJECT) },
    { "def(project, ...)", project_module("  def(project, do: [app: :real])\n" .. DECOY_PROJECT) },
    { "defdelegate", project_module("  defdelegate project, to: Other\n" .. DECOY_PROJECT,
      "defmodule Other do\n  def project, do: [app: :real]\nend\n\n") },
    { "a default argument", project_module("  def project(app \\\\ :real), do: [app: app]\n" .. DECOY_PROJECT) },
    { "defmacro", project_module("  defmacro project, do: [app: :real]\n" .. DECOY_PROJECT) },
    { "defp", project_module("  defp project, do: [app: :real]\n" .. DECOY_PROJECT) },
  },
  ["project/0 defined in a block"] = {
    { "if", project_module("  if true do\n    def project, do: [app: :real]\n  end\n\n" .. DECOY_PROJECT) },
    { "case", project_module("  case true do\n    true -> def project, do: [app: :real]\n  end\n\n" .. DECOY_PROJECT) },
    { "for", project_module("  for _ <- [1] do\n    def project, do: [app: :real]\n  end\n\n" .. DECOY_PROJECT) },
    { "try", project_module("  try do\n    def project, do: [app: :real]\n  after\n    :ok\n  end\n\n" .. DECOY_PROJECT) },
    { "`if ..., do: (...)`", project_module("  if true, do: (def project, do: [app: :real])\n" .. DECOY_PROJECT) },
    { "a piped if", project_module("  quote do: 1\n  true |> if do\n    def project, do: [app: :real]\n  end\n\n"
      .. DECOY_PROJECT) },
    { "a quote that is an argument", project_module("  if true,\n    quote do\n      def project, do: [app: :real]\n"
      .. "    end\n\n" .. DECOY_PROJECT) },
    { "an interpolation", project_module('  @note "#{(def project, do: [app: :real]); ""}"\n' .. DECOY_PROJECT) },
    { "only in a block", project_module("  if Mix.env() != :nope do\n    def project, do: [app: :real]\n  end\n") },
  },
  ["the releases function defined twice or in a block"] = {
    { "two clauses", project_module("  def project, do: [apps_path: \"apps\", releases: releases()]\n"
      .. "  defp releases, do: [real: []]\n  defp releases, do: [decoy: []]\n") },
    { "a clause with a guard first", project_module("  def project, do: [apps_path: \"apps\", releases: releases()]\n"
      .. "  defp releases when true, do: [real: []]\n  defp releases, do: [decoy: []]\n") },
    { "in an if block", project_module("  def project, do: [apps_path: \"apps\", releases: releases()]\n"
      .. "  if true do\n    defp releases, do: [real: []]\n  end\n  defp releases, do: [decoy: []]\n") },
    { "after defoverridable", project_module("  def project, do: [apps_path: \"apps\", releases: releases()]\n"
      .. "  def releases, do: [decoy: []]\n  defoverridable releases: 0\n  def releases, do: [real: []]\n") },
    { "project/0 itself", project_module("  def project, do: [decoy: [], apps_path: \"apps\", releases: project()]\n") },
  },
  ["code that defines or sets what the reader cannot see"] = {
    { "use of another module", project_module("  use Defaults\n" .. DECOY_PROJECT,
      helper_macro("__using__(_)", "def project, do: [app: :real]"):gsub("Helper", "Defaults")) },
    { "an imported macro", project_module("  import Helper\n  real_project()\n" .. DECOY_PROJECT,
      helper_macro("real_project", "def project, do: [app: :real]")) },
    { "a required macro", app_attr("  require Helper\n  Helper.set_app()\n"):gsub("^", helper_macro("set_app", "@app :real")) },
    { "an import above the module", project_module("  real_project()\n" .. DECOY_PROJECT,
      helper_macro("real_project", "def project, do: [app: :real]") .. "import Helper\n\n") },
    { "an unquote fragment", project_module("  name = :project\n  def unquote(name)(), do: [app: :real]\n" .. DECOY_PROJECT) },
    { "Module.eval_quoted", project_module("  Module.eval_quoted(__MODULE__, quote(do: def(project, do: [app: :real])))\n"
      .. DECOY_PROJECT) },
    { "Code.eval_quoted", project_module("  Code.eval_quoted(quote(do: def(project, do: [app: :real])), [], __ENV__)\n"
      .. DECOY_PROJECT) },
    { "Code.eval_string", app_attr('  Code.eval_string("@app :real", [], __ENV__)\n') },
    { "a helper module's Module.put_attribute", app_attr("  Helper.set(__MODULE__)\n"):gsub("^",
      "defmodule Helper do\n  def set(module), do: Module.put_attribute(module, :app, :real)\nend\n\n") },
    { "a helper module's Module.eval_quoted", project_module("  Helper.define(__MODULE__)\n" .. DECOY_PROJECT,
      "defmodule Helper do\n  def define(module),\n    do: Module.eval_quoted(module, quote(do: def(project, do: [app: :real])))\nend\n\n") },
    { "Code.require_file in the module", app_attr('  Code.require_file("set_app.exs", __DIR__)\n') },
    { "@before_compile", project_module("  @before_compile Later\n" .. DECOY_PROJECT,
      "defmodule Later do\n  defmacro __before_compile__(_) do\n    quote do\n      defoverridable project: 0\n"
      .. "      def project, do: [app: :real]\n    end\n  end\nend\n\n") },
    { "@on_definition", app_attr("  @on_definition {Hook, :on_def}\n  defp x, do: 1\n"):gsub("^",
      "defmodule Hook do\n  def on_def(env, _, _, _, _, _), do: Module.put_attribute(env.module, :app, :real)\nend\n\n") },
    { "a parse transform", project_module("  @compile {:parse_transform, Swap}\n" .. DECOY_PROJECT, [[
defmodule Swap do
  def parse_transform(forms, _opts), do: swap(forms)
  defp swap({:atom, line, :decoy}), do: {:atom, line, :real}
  defp swap(t) when is_tuple(t), do: t |> Tuple.to_list() |> swap() |> List.to_tuple()
  defp swap(l) when is_list(l), do: Enum.map(l, &swap/1)
  defp swap(x), do: x
end

]]) },
  },
  ["more than one Mix project in the file"] = {
    { "two modules (Mix takes the last)", project_module(DECOY_PROJECT)
      .. "\ndefmodule Real.MixProject do\n  use Mix.Project\n  def project, do: [app: :real]\nend\n" },
    { "a nested one", project_module(DECOY_PROJECT .. "  defmodule Inner do\n    use Mix.Project\n"
      .. "    def project, do: [app: :inner]\n  end\n") },
  },
  ["a name Mix does not take"] = {
    { "app: :nil", project_module("  def project, do: [app: :nil, apps_path: \"apps\", default_release: :real]\n") },
    { "app: :\"nil\"", project_module("  def project, do: [app: :\"nil\"]\n") },
    { "default_release: :false", project_module("  def project do\n"
      .. "    [apps_path: \"apps\", default_release: :false, releases: [real: []]]\n  end\n") },
  },
}

describe("mix.exs whose project/0 may say other than its text", function()
  local classes = {}
  for class in pairs(UNSEEN) do classes[#classes + 1] = class end
  table.sort(classes)
  for _, class in ipairs(classes) do
    describe(class, function()
      for _, case in ipairs(UNSEEN[class]) do
        it("is an app_name error: " .. case[1], function() assert_unreadable(case[2]) end)
      end
    end)
  end
end)

-- What the audit lets through: nothing here can change what project/0
-- returns (each checked with Mix 1.14).
local AUDITED = {
  { "Module.register_attribute when project/0 reads no attribute", "real_app", project_module(
    "  Module.register_attribute(__MODULE__, :app, accumulate: true)\n  @app :first\n  @app :second\n"
    .. "  def project, do: [app: :real_app, version: \"0.1.0\"]\n") },
  { "Module.put_attribute of an attribute project/0 does not read", "real_app", project_module(
    "  Module.put_attribute(__MODULE__, :other, 1)\n  def project, do: [app: :real_app]\n") },
  { "a module-level if defining other functions", "foo_bar", project_module(
    "  @app :foo_bar\n  if @app == :foo_bar do\n    defp extra, do: []\n  else\n    defp extra, do: [:x]\n  end\n"
    .. "  def project, do: [app: @app, deps: extra()]\n") },
  { "@app read in interpolations and expressions", "foo_bar", project_module(
    '  @app :foo_bar\n  @source_url "https://github.com/me/#{@app}"\n  @apps [@app | []]\n'
    .. '  @label to_string(@app) <> "!"\n  @same @app == :foo_bar\n  @first @apps[:x] || @app\n'
    .. "  def project, do: [app: @app, name: @label, docs: [source_url: @source_url]]\n"
    .. "  def application, do: [extra: {@app, @same}]\n") },
  { "Code.ensure_loaded? and @external_resource at module level", "foo_bar", project_module(
    '  @external_resource "mix.exs"\n  Code.ensure_loaded?(Hex)\n  alias Mix.Project, as: P\n'
    .. "  def project, do: [app: :foo_bar]\n") },
  { "project/1 and project/2 beside project/0", "foo_bar", project_module(
    "  def project(:old), do: [app: :wrong]\n  def project, do: [app: :foo_bar]\n"
    .. "  def project(a, b \\\\ 1), do: [app: a, b: b]\n") },
  { "@app set on one line with `;`", "foo_bar", project_module(
    "  @app :wrong; @app :foo_bar\n  def project, do: [app: @app]\n") },
  { "an umbrella's default_release from an attribute", "web", project_module(
    "  @rel :web\n  def project, do: [apps_path: \"apps\", default_release: @rel]\n") },
  { "an umbrella's releases() beside releases/1", "my_rel", project_module(
    "  def project, do: [apps_path: \"apps\", releases: releases()]\n  def releases(:x), do: [wrong: []]\n"
    .. "  defp releases, do: [my_rel: []]\n") },
}

describe("mix.exs app name, past the audit", function()
  for _, case in ipairs(AUDITED) do
    it("reads " .. case[1], function() assert_app_name(case[2], case[3]) end)
  end
end)

-- Another module could answer to Mix.Project, and real Mix would take it:
-- the first `use Mix.Project` is then not the project.
describe("mix.exs where another module could be the Mix project", function()
  local decoy = 'defmodule Decoy.MixProject do\n  use Mix.Project\n  def project, do: [app: :decoy]\nend\n'
  for _, case in ipairs({
    { "an alias making Mix another module", 'defmodule Fake.Project do\n  defmacro __using__(_), do: nil\nend\n'
      .. 'alias Fake, as: Mix\n' .. decoy },
    { "an alias of a module named Mix", 'alias Other.Mix\n' .. decoy },
    { "use Elixir.Mix.Project in a second module", decoy
      .. 'defmodule Real.MixProject do\n  use Elixir.Mix.Project\n  def project, do: [app: :real]\nend\n' },
    { "use(Mix.Project) in a second module", decoy
      .. 'defmodule Real.MixProject do\n  use(Mix.Project)\n  def project, do: [app: :real]\nend\n' },
    { 'use :"Elixir.Mix.Project" in a second module', decoy
      .. 'defmodule Real.MixProject do\n  use :"Elixir.Mix.Project"\n  def project, do: [app: :real]\nend\n' },
    { "a module of the file named Mix.Project", 'defmodule Mix.Project do\nend\n' .. decoy },
  }) do
    it("is unreadable: " .. case[1], function() assert_unreadable(case[2]) end)
  end

  it("still reads an alias of Mix.Project itself", function()
    assert_app_name("foo_bar", 'defmodule FooBar.MixProject do\n  use Mix.Project\n  alias Mix.Project, as: P\n'
      .. '  def project, do: [app: :foo_bar]\nend\n')
  end)
end)
