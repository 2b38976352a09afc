defmodule A.MixProject do
  use Mix.Project
  @app :real
  if false, do:
    @app :decoy
  def project, do: [app: @app]
end
