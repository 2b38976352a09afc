defmodule Probe do
  @moduledoc """
  A stand-in Phoenix app for unitforge's real-systemd specs: it answers a
  line naming an environment variable with that variable's value, and
  "crash" by crashing the VM (which writes a crash dump).
  """

  def serve(port) do
    {:ok, socket} =
      :gen_tcp.listen(port, [:binary, packet: :line, active: false, reuseaddr: true])

    loop(socket)
  end

  defp loop(socket) do
    {:ok, client} = :gen_tcp.accept(socket)

    case :gen_tcp.recv(client, 0, 5000) do
      {:ok, "crash" <> _} ->
        :erlang.halt(~c"crash requested")

      {:ok, "mnesia_dir" <> _} ->
        # mnesia is not in this release: read the flag as mnesia would
        {:ok, [[~c"dir", dir]]} = :init.get_argument(:mnesia)
        {:ok, tokens, _} = :erl_scan.string(dir ++ ~c".")
        {:ok, path} = :erl_parse.parse_term(tokens)
        :gen_tcp.send(client, to_string(path) <> "\n")

      {:ok, line} ->
        name = String.trim(line)
        :gen_tcp.send(client, (System.get_env(name) || "") <> "\n")

      _ ->
        :ok
    end

    :gen_tcp.close(client)
    loop(socket)
  end
end
