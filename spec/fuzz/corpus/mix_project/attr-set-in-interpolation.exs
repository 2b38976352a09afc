defmodule A.MixProject do
  use Mix.Project
  @app :decoy
  @x "#{@app :real}"
  def project, do: [app: @app]
end
