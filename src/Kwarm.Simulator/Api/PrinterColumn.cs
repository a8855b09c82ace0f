namespace Kwarm.Simulator.Api;

public sealed record PrinterColumn(string Name, string Type, string JsonPath, string? Description = null, int Priority = 0);
