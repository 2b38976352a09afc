defmodule Probe.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    port = String.to_integer(System.get_env("PORT") || "4000")
    children = [%{id: Probe, start: {Task, :start_link, [fn -> Probe.serve(port) end]}, restart: :permanent}]
    Supervisor.start_link(children, strategy: :one_for_one, name: Probe.Supervisor)
  end
end
