using System;
using System.Collections.Generic;

namespace Shop.Billing
{
    /// <summary>Computes invoice totals.</summary>
    public class InvoiceCalculator
    {
        private const decimal TaxRate = 0.2m;

        public decimal Total(IEnumerable<decimal> lines)
        {
            decimal sum = 0;
            foreach (var line in lines)
            {
                sum += line;
            }
            return sum * (1 + TaxRate);
        }

        public InvoiceCalculator()
        {
            Console.WriteLine("calculator ready");
            Console.WriteLine("tax rate loaded");
        }
    }
}
